"""Security headers, rate limits and the setup that makes the portal safe on the open internet."""
from __future__ import annotations

from flask import Flask
from flask_login import current_user
from flask_limiter.util import get_remote_address

from facesite.extensions import limiter, talisman


def content_security_policy(frame_ancestors: list[str]) -> dict:
    # No inline script or style anywhere: every script and stylesheet is a file under /static.
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": frame_ancestors or "'none'",
    }


def configure_security(app: Flask) -> None:
    ancestors = app.config["FRAME_ANCESTORS"]
    talisman.init_app(
        app,
        content_security_policy=content_security_policy(ancestors),
        # frame-ancestors decides framing; X-Frame-Options cannot name other origins.
        frame_options="DENY" if not ancestors else None,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=True,  # Talisman sends HSTS on HTTPS requests only
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        session_cookie_http_only=True,
    )
    limiter.init_app(app)


def user_or_address() -> str:
    """Rate-limit key for staff actions: the signed-in user, else the client address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"
