"""The portal's factory: ``create_app`` and the steps it reads as, one ``register_*`` or ``init_app`` each."""
from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

from flask import Flask, Request
from flask_migrate import upgrade
from sqlalchemy import event, make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from facesite import commands, config, drafts, log_format, owner_only, retention
from facesite.access.accounts import issue_setup_link
from facesite.access.policy import enforce_policy
from facesite.batch import scheduler
from facesite.extensions import (SHORT_POOL_SIZE, SHORT_TRANSACTIONS, csrf, db, init_short_transactions, login_manager,
                                 migrate)
from facesite.faces import catalogue
from facesite.pictures import decoding
from facesite.sandbox.cli import sandbox_cli
from facesite.web import admin, auth, batch, enrol, errors, i18n, main, observability, register, search
from facesite.web.batch.routes import allow_large_uploads
from facesite.web.security import DatabaseIdConverter, RefuseUnusableHost, configure_security


def _project_folder(name: str) -> str:
    """A folder of the project: inside the package when installed (pyproject.toml puts it there),
    else at the top of the checkout, beside the package."""
    package = Path(__file__).resolve().parent
    return str(package / name if (package / name).is_dir() else package.parent / name)


MIGRATIONS = _project_folder("migrations")
log = logging.getLogger(__name__)


# A file part of a form up to this size is parsed into memory. Werkzeug's default spills anything
# over 500 KB to a temporary file, which for a 1.3 MB photo meant writing it to disk and reading it
# back on every enrolment and search; the body is complete and bounded (MAX_UPLOAD_MB) by then.
FORM_PART_IN_MEMORY_BYTES = 4 * 1024 * 1024


class PortalRequest(Request):
    def _get_file_stream(self, total_content_length, content_type, filename=None, content_length=None):
        return tempfile.SpooledTemporaryFile(max_size=FORM_PART_IN_MEMORY_BYTES, mode="rb+")


def create_app(settings: config.Settings | None = None) -> Flask:
    """The portal, configured by ``settings`` (default: this process's, read by facesite/config.py)."""
    settings = settings or config.from_process()
    # INSTANCE_PATH points the portal's files (SQLite database, sandbox data, secret key)
    # at a persistent disk; the default is ./instance beside the code.
    app = Flask(__name__, instance_relative_config=True, instance_path=settings.instance_path,
                template_folder=_project_folder("templates"), static_folder=_project_folder("static"))
    app.request_class = PortalRequest
    owner_only.folder(app.instance_path)
    config.attach(app, settings.in_instance_folder(app.instance_path))
    settings = config.settings(app)
    database = make_url(settings.sqlalchemy_database_uri)
    if database.get_backend_name() == "sqlite" and database.database not in (None, "", ":memory:"):
        owner_only.sqlite_file(database.database)

    configure_logging(app)
    decoding.configure(settings.picture_max_pixels, settings.picture_decode_budget,
                       settings.picture_decode_wait_seconds)
    register_extensions(app)
    # Believe X-Forwarded-* only from as many proxies as are known to sit in front (TRUSTED_PROXY_HOPS,
    # default none): otherwise any client could claim any address and dodge the per-address limits.
    app.wsgi_app = RefuseUnusableHost(app.wsgi_app)  # inside ProxyFix: X-Forwarded-Host is checked too
    hops = settings.trusted_proxy_hops
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)
    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    register_blueprints(app)
    observability.init_app(app)  # /metrics and request ids: after the middleware above, so outermost
    errors.register_error_handlers(app)
    register_commands(app)
    prepare_database(app)

    drafts.init_app(app)
    scheduler.init_app(app, daily_purge=retention.purge_if_due)

    @app.context_processor
    def portal_mode():
        return {"sandbox_mode": settings.sandbox_mode}

    app.jinja_env.globals["face_set_name"] = catalogue.listed_name  # pages name a face set by its label, its id after it

    return app


def configure_logging(app: Flask) -> None:
    # Logs go to stdout, where a PaaS collects them. The vendor client never logs
    # headers or bodies, so keys and tokens cannot reach this stream.
    if not logging.getLogger().handlers:
        handler = log_format.handler(config.settings(app).log_format, sys.stdout)  # text or JSON, with request ids
        handler.addFilter(one_line_messages)
        logging.getLogger().addHandler(handler)
    logging.getLogger("facesite").setLevel(config.settings(app).log_level)
    # Werkzeug's request lines (`flask run`, tests); gunicorn's access log has the same filter (log_format.py).
    logging.getLogger("werkzeug").addFilter(log_format.hide_link_secrets)


def one_line_messages(record: logging.LogRecord) -> bool:
    """Log lines carry what visitors typed (a path, a user name): a line break in it must not start a
    forged line of its own, so control characters in the message are written as escapes."""
    message = record.getMessage()
    if any(ord(c) < 32 or 127 <= ord(c) < 160 or c in "\u2028\u2029" for c in message):
        record.msg = "".join(c if 32 <= ord(c) < 127 or (ord(c) >= 160 and c not in "\u2028\u2029")
                             else repr(c)[1:-1] for c in message)
        record.args = None
    return True


def register_extensions(app: Flask) -> None:
    app.before_request(allow_large_uploads)  # before CSRF protection reads the body
    csrf.init_app(app)
    # The short transactions' pool is small: each is one or two statements, and a database server
    # counts every connection (PostgreSQL refused a second full-size pool: "too many clients").
    options = config.settings(app).sqlalchemy_engine_options
    app.config["SQLALCHEMY_BINDS"] = {SHORT_TRANSACTIONS: {
        **options, "url": config.settings(app).sqlalchemy_database_uri,
        "pool_size": min(SHORT_POOL_SIZE, options.get("pool_size", SHORT_POOL_SIZE)),
        "max_overflow": min(SHORT_POOL_SIZE, options.get("max_overflow", SHORT_POOL_SIZE))}}
    db.init_app(app)
    tune_sqlite(app)
    init_short_transactions(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    login_manager.init_app(app)
    app.before_request(enforce_policy)  # sign-in, roles and ownership: the access policy's one gate
    configure_security(app)
    i18n.init_app(app)


def tune_sqlite(app: Flask) -> None:
    """SQLite (the default database): write-ahead logging, so that audit records written by
    many threads neither block readers nor wait for a full disk sync each."""
    if not config.settings(app).sqlalchemy_database_uri.startswith("sqlite"):
        return

    def set_pragmas(connection, _record):
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    with app.app_context():
        for engine in db.engines.values():
            event.listen(engine, "connect", set_pragmas)


def register_blueprints(app: Flask) -> None:
    for blueprint in (main.bp, auth.bp, enrol.bp, batch.bp, search.bp, register.bp, admin.bp):
        app.register_blueprint(blueprint)


def register_commands(app: Flask) -> None:
    app.cli.add_command(commands.create_user_command)
    app.cli.add_command(commands.purge_command)
    app.cli.add_command(commands.reset_password_command)
    app.cli.add_command(sandbox_cli)


def prepare_database(app: Flask) -> None:
    """Bring the schema up to date and, with no users yet, print the first administrator's link.

    Skipped where gunicorn's master has done it already for all its workers, or when
    MIGRATE_ON_START=0 (a Procfile release: line migrates): both leave migrate_on_start off.
    """
    settings = config.settings(app)
    if not settings.migrate_on_start:
        return
    with app.app_context():
        upgrade(directory=MIGRATIONS)
        catalogue.seed_sandbox_catalogue()
        # Under OpenID Connect the first administrator is whoever of the admin groups signs in first: no link.
        token = None if settings.auth_mode == "oidc" and not settings.auth_break_glass else issue_setup_link()
    if token:
        # PUBLIC_URL includes the path the portal is mounted under; SCRIPT_NAME is that path under gunicorn.
        base = settings.public_url or f"http://127.0.0.1:{settings.port}{settings.script_name}"
        log.warning("No administrator yet. Create one within 24 hours at %s/auth/setup/%s", base.rstrip("/"), token)
