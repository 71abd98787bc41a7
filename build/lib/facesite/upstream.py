"""The portal's one vendor client, built on first use.

Built lazily so that CLI commands (migrations, create-user) never start a
sandbox, and so the sandbox starts only in a process that will call it.
"""
from __future__ import annotations

import threading

from flask import Flask, current_app

from facesite.advance import AdvanceClient
from facesite.audit import AuditTrail
from facesite.sandbox import sandbox_credentials

_lock = threading.Lock()


def vendor() -> AdvanceClient:
    app = current_app._get_current_object()
    client = app.extensions.get("advance")
    if client is None:
        with _lock:
            client = app.extensions.get("advance") or build_client(app)
            app.extensions["advance"] = client
    return client


def build_client(app: Flask) -> AdvanceClient:
    base_url = app.config["ADVANCE_BASE_URL"]
    if base_url is None:
        # No credentials and no upstream named: run the sandbox beside the portal.
        # (Under gunicorn, gunicorn.conf.py starts it once for all workers instead.)
        from facesite.sandbox.cli import sandbox_db_path
        from facesite.sandbox.launcher import running_sandbox, start_sandbox

        # A batch worker beside a web process uses the sandbox the web process started.
        base_url = running_sandbox(sandbox_db_path()) or start_sandbox(sandbox_db_path())[0]
        app.config["ADVANCE_BASE_URL"] = base_url
    if app.config["SANDBOX_MODE"]:
        access_key, secret_key = sandbox_credentials()
        credentials = {"access_key": access_key, "secret_key": secret_key}
    else:
        credentials = {"access_key": app.config["ADVANCE_ACCESS_KEY"], "secret_key": app.config["ADVANCE_SECRET_KEY"],
                       "fixed_token": app.config["ADVANCE_ACCESS_TOKEN"]}
    return AdvanceClient(
        base_url, token_period=app.config["ADVANCE_TOKEN_PERIOD"],
        connect_timeout=app.config["ADVANCE_CONNECT_TIMEOUT"], read_timeout=app.config["ADVANCE_READ_TIMEOUT"],
        use_env_proxy=app.config["ADVANCE_USE_ENV_PROXY"], observer=AuditTrail(app),
        score_field=app.config["SCORE_FIELD"], **credentials)
