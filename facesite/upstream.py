"""The portal's one vendor client, built on first use.

Built lazily so that CLI commands (migrations, create-user) never start a
sandbox, and so the sandbox starts only in a process that will call it.
"""
from __future__ import annotations

import threading

from flask import Flask, current_app

from facesite.advance import AdvanceClient
from facesite.audit import AuditTrail
from facesite.config import settings, upstream_is
from facesite.sandbox import keys as sandbox_keys
from facesite.sandbox.keys import sandbox_db_path
from facesite.sandbox.launcher import running_sandbox, start_sandbox

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
    if settings(app).advance_base_url is None:
        # No credentials and no upstream named: run the sandbox beside the portal.
        # (Under gunicorn, gunicorn.conf.py starts it once for all workers instead.)
        # A batch worker beside a web process uses the sandbox the web process started, once it has proved
        # it is that one (its operator key).
        upstream_is(app, running_sandbox(sandbox_db_path()) or start_sandbox(sandbox_db_path())[0])
    portal = settings(app)
    if portal.sandbox_mode:
        # The sandbox this process started or checked; else one started by hand on this portal's sandbox data
        # (`python -m facesite.sandbox serve`, its key file says where), once it proves it is; else one of
        # someone's own at ADVANCE_BASE_URL, with the keys they named in the environment.
        if sandbox_keys.for_url(portal.advance_base_url) is None:
            running_sandbox(sandbox_db_path())
        keys = sandbox_keys.for_url(portal.advance_base_url) or sandbox_keys.configured()
        credentials = {"access_key": keys.access_key, "secret_key": keys.secret_key}
    else:
        credentials = {"access_key": portal.advance_access_key, "secret_key": portal.advance_secret_key,
                       "fixed_token": portal.advance_access_token}
    return AdvanceClient(
        portal.advance_base_url, token_period=portal.advance_token_period,
        connect_timeout=portal.advance_connect_timeout, read_timeout=portal.advance_read_timeout,
        use_env_proxy=portal.advance_use_env_proxy, observer=AuditTrail(app), score_field=portal.score_field,
        **credentials)
