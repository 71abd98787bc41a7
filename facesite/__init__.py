"""facesite: a staff portal for ADVANCE.AI Face Search."""
from __future__ import annotations

import logging
import os
import sys

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from facesite import config
from facesite.extensions import csrf


def create_app(test_config: dict | None = None) -> Flask:
    # INSTANCE_PATH points the portal's files (drafts, sandbox data, secret key) at a
    # persistent disk; the default is ./instance beside the code.
    app = Flask(__name__, instance_relative_config=True, instance_path=os.environ.get("INSTANCE_PATH") or None,
                template_folder="../templates", static_folder="../static")
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)

    configure_logging(app)
    csrf.init_app(app)
    # One proxy hop (the platform's router) sets X-Forwarded-*; trust exactly that one.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)
    register_upstream(app)
    register_blueprints(app)
    from facesite.errors import register_error_handlers

    register_error_handlers(app)

    @app.context_processor
    def portal_mode():
        return {"sandbox_mode": app.config["SANDBOX_MODE"]}

    return app


def configure_logging(app: Flask) -> None:
    # Logs go to stdout, where a PaaS collects them. The vendor client never logs
    # headers or bodies, so keys and tokens cannot reach this stream.
    if not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger().addHandler(handler)
    logging.getLogger("facesite").setLevel(app.config["LOG_LEVEL"])


def register_upstream(app: Flask) -> None:
    from facesite.advance import AdvanceClient
    from facesite.drafts import DraftStore
    from facesite.sandbox import sandbox_credentials

    base_url = app.config["ADVANCE_BASE_URL"]
    if base_url is None:
        # No credentials and no upstream named: run the sandbox beside the portal.
        # (Under gunicorn, gunicorn.conf.py starts it once for all workers instead.)
        from facesite.sandbox.launcher import start_sandbox

        base_url, _ = start_sandbox(os.environ.get("SANDBOX_DB") or os.path.join(app.instance_path, "sandbox.sqlite3"))
        app.config["ADVANCE_BASE_URL"] = base_url
    if app.config["SANDBOX_MODE"]:
        access_key, secret_key = sandbox_credentials()
        credentials = {"access_key": access_key, "secret_key": secret_key}
    else:
        credentials = {"access_key": app.config["ADVANCE_ACCESS_KEY"], "secret_key": app.config["ADVANCE_SECRET_KEY"],
                       "fixed_token": app.config["ADVANCE_ACCESS_TOKEN"]}
    app.extensions["advance"] = AdvanceClient(
        base_url, token_period=app.config["ADVANCE_TOKEN_PERIOD"],
        connect_timeout=app.config["ADVANCE_CONNECT_TIMEOUT"], read_timeout=app.config["ADVANCE_READ_TIMEOUT"],
        **credentials)
    app.extensions["drafts"] = DraftStore(os.path.join(app.instance_path, "drafts"),
                                          max_age_seconds=app.config["DRAFT_MAX_AGE_HOURS"] * 3600)


def register_blueprints(app: Flask) -> None:
    from facesite import enrol, main
    from facesite.sandbox.cli import sandbox_cli

    app.register_blueprint(main.bp)
    app.register_blueprint(enrol.bp)
    app.cli.add_command(sandbox_cli)
