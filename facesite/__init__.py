"""facesite: a staff portal for ADVANCE.AI Face Search."""
from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

from flask import Flask, Request
from werkzeug.middleware.proxy_fix import ProxyFix

from facesite import config, log_format, observability


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
    os.makedirs(app.instance_path, exist_ok=True)
    config.attach(app, settings.in_instance_folder(app.instance_path))

    configure_logging(app)
    from facesite import decoding

    decoding.configure(app.config["PICTURE_MAX_PIXELS"], app.config["PICTURE_DECODE_BUDGET"],
                       app.config["PICTURE_DECODE_WAIT_SECONDS"])
    register_extensions(app)
    # Believe X-Forwarded-* only from as many proxies as are known to sit in front (TRUSTED_PROXY_HOPS,
    # default none): otherwise any client could claim any address and dodge the per-address limits.
    from facesite.security import RefuseUnusableHost

    app.wsgi_app = RefuseUnusableHost(app.wsgi_app)  # inside ProxyFix: X-Forwarded-Host is checked too
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)
    from facesite.security import DatabaseIdConverter

    app.url_map.converters["int"] = DatabaseIdConverter  # before any route is added
    register_blueprints(app)
    observability.init_app(app)  # /metrics and request ids: after the middleware above, so outermost
    register_error_handlers(app)
    register_commands(app)
    prepare_database(app)

    from facesite.drafts import DraftStore
    from facesite.extensions import init_batch_scheduler, init_drafts, short_transactions

    with app.app_context():
        # SQLite means one machine: kept pictures go to files beside it, not into the single-writer database.
        on_sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        init_drafts(app, DraftStore(short_transactions(), max_age_seconds=app.config["DRAFT_MAX_AGE_HOURS"] * 3600,
                                    picture_folder=os.path.join(app.instance_path, "kept-pictures") if on_sqlite else None))

    from facesite.batch.scheduler import BatchScheduler

    scheduler = BatchScheduler(app)
    init_batch_scheduler(app, scheduler)
    # Under gunicorn, gunicorn.conf.py starts the sweeper as each worker starts; elsewhere the
    # first request does (never at import: gunicorn's master would run jobs it cannot finish).
    app.before_request(scheduler.start)

    @app.context_processor
    def portal_mode():
        return {"sandbox_mode": app.config["SANDBOX_MODE"]}

    from facesite.catalogue import listed_name
    app.jinja_env.globals["face_set_name"] = listed_name  # pages name a face set by its label, its id after it

    return app


def configure_logging(app: Flask) -> None:
    # Logs go to stdout, where a PaaS collects them. The vendor client never logs
    # headers or bodies, so keys and tokens cannot reach this stream.
    if not logging.getLogger().handlers:
        handler = log_format.handler(app.config["LOG_FORMAT"], sys.stdout)  # text or JSON, with request ids
        handler.addFilter(one_line_messages)
        logging.getLogger().addHandler(handler)
    logging.getLogger("facesite").setLevel(app.config["LOG_LEVEL"])
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
    from facesite.access.policy import enforce_policy
    from facesite.batch.routes import allow_large_uploads
    from facesite.extensions import SHORT_POOL_SIZE, SHORT_TRANSACTIONS, csrf, db, init_short_transactions, login_manager, migrate
    from facesite.security import configure_security

    app.before_request(allow_large_uploads)  # before CSRF protection reads the body
    csrf.init_app(app)
    # The short transactions' pool is small: each is one or two statements, and a database server
    # counts every connection (PostgreSQL refused a second full-size pool: "too many clients").
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    app.config["SQLALCHEMY_BINDS"] = {SHORT_TRANSACTIONS: {
        **options, "url": app.config["SQLALCHEMY_DATABASE_URI"],
        "pool_size": min(SHORT_POOL_SIZE, options.get("pool_size", SHORT_POOL_SIZE)),
        "max_overflow": min(SHORT_POOL_SIZE, options.get("max_overflow", SHORT_POOL_SIZE))}}
    db.init_app(app)
    tune_sqlite(app)
    init_short_transactions(app)
    migrate.init_app(app, db, directory=MIGRATIONS)
    login_manager.init_app(app)
    app.before_request(enforce_policy)  # sign-in, roles and ownership: the access policy's one gate
    configure_security(app)
    from facesite import i18n

    i18n.init_app(app)


def tune_sqlite(app: Flask) -> None:
    """SQLite (the default database): write-ahead logging, so that audit records written by
    many threads neither block readers nor wait for a full disk sync each."""
    from sqlalchemy import event

    from facesite.extensions import db

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
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
    from facesite import admin, auth, batch, enrol, main, register, search

    for blueprint in (main.bp, auth.bp, enrol.bp, batch.bp, search.bp, register.bp, admin.bp):
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    from facesite.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from facesite.commands import create_user_command, purge_command, reset_password_command
    from facesite.sandbox.cli import sandbox_cli

    app.cli.add_command(create_user_command)
    app.cli.add_command(purge_command)
    app.cli.add_command(reset_password_command)
    app.cli.add_command(sandbox_cli)


def prepare_database(app: Flask) -> None:
    """Bring the schema up to date and, with no users yet, print the first administrator's link.

    Skipped where gunicorn's master has done it already for all its workers, or when
    MIGRATE_ON_START=0 (a Procfile release: line migrates): both leave migrate_on_start off.
    """
    settings = config.settings(app)
    if not settings.migrate_on_start:
        return
    from flask_migrate import upgrade

    from facesite.access.accounts import issue_setup_link
    from facesite.catalogue import seed_sandbox_catalogue

    with app.app_context():
        upgrade(directory=MIGRATIONS)
        seed_sandbox_catalogue()
        # Under OpenID Connect the first administrator is whoever of the admin groups signs in first: no link.
        token = None if settings.auth_mode == "oidc" and not settings.auth_break_glass else issue_setup_link()
    if token:
        # PUBLIC_URL includes the path the portal is mounted under; SCRIPT_NAME is that path under gunicorn.
        base = settings.public_url or f"http://127.0.0.1:{settings.port}{settings.script_name}"
        log.warning("No administrator yet. Create one within 24 hours at %s/auth/setup/%s", base.rstrip("/"), token)
