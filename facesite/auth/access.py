"""Who may see what: sign-in required everywhere but a few pages, roles checked on the server."""
from __future__ import annotations

import hmac
from functools import wraps
from urllib.parse import urlsplit

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from facesite.extensions import db, login_manager
from facesite.models import ROLES, User

# Endpoints anyone may reach: signing in, the first-admin link, static files, the health check.
PUBLIC_ENDPOINTS = {"auth.login", "auth.setup", "static", "main.healthz"}


def role_required(role: str):
    """Refuse (403) unless the signed-in user has ``role`` or a higher one."""
    assert role in ROLES

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not current_user.is_authenticated or not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)

        return checked

    return decorate


def require_sign_in():
    """before_request: everything but PUBLIC_ENDPOINTS needs a signed-in user."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    if request.endpoint is None:  # unknown URL: say nothing about what exists
        return redirect(url_for("auth.login"))
    return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (no open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@login_manager.user_loader
def load_user(user_id: str):
    return db.session.get(User, int(user_id)) if user_id.isdigit() else None


@login_manager.request_loader
def user_from_proxy(req):
    """AUTH_MODE=header: trust the identity proxy's user header, but only with the shared secret."""
    config = current_app.config
    if config["AUTH_MODE"] != "header":
        return None
    secret = req.headers.get("X-Proxy-Secret", "")
    if not config["AUTH_PROXY_SECRET"] or not hmac.compare_digest(secret, config["AUTH_PROXY_SECRET"]):
        return None
    username = req.headers.get(config["AUTH_HEADER"], "").strip().lower()
    if not username or len(username) > 254:
        return None
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        role = config["AUTH_DEFAULT_ROLE"] if config["AUTH_DEFAULT_ROLE"] in ROLES else "viewer"
        user = User(username=username, role=role, source="header")
        db.session.add(user)
        db.session.commit()
    return user
