"""Security headers, rate limits and the setup that makes the portal safe on the open internet."""
from __future__ import annotations

from flask import Flask, Response, redirect, request
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
        force_https=False,  # see redirect_to_https: loopback and the router's HTTPS are told apart there
        strict_transport_security=True,  # Talisman sends HSTS on HTTPS requests only
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        session_cookie_http_only=True,
    )
    limiter.init_app(app)
    if app.config["FORCE_HTTPS"]:
        app.before_request(redirect_to_https)
    app.after_request(no_store)


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def redirect_to_https():
    """FORCE_HTTPS: send plain-HTTP visitors to the HTTPS address. Not for the platform's health probe,
    not for loopback (no TLS can end there: a developer or a test on this machine), and not when the
    router says the visitor is on HTTPS already (X-Forwarded-Proto): believing that header can only
    spare a visitor a redirect, never expose anyone else, and it avoids a redirect loop behind a router
    whose hop is not counted in TRUSTED_PROXY_HOPS."""
    if request.is_secure or request.endpoint == "main.healthz":
        return None
    if request.headers.get("X-Forwarded-Proto", "").strip().lower() == "https":
        return None
    host = request.host.rsplit(":", 1)[0].strip("[]") if not request.host.startswith("[") or "]:" in request.host \
        else request.host.strip("[]")
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return None
    return redirect("https://" + request.url.split("://", 1)[1], 301)


def no_store(response: Response) -> Response:
    """Nothing the portal answers may be kept by a browser or a shared cache: pages, JSON, CSV files,
    kept pictures and thumbnails all hold personal data (faces, names, ID numbers) once someone is
    signed in, and a shared or public computer must not keep them after sign-out. Files under
    /static (styles, scripts, icons) hold none and may be cached."""
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def user_or_address() -> str:
    """Rate-limit key for staff actions: the signed-in user, else the client address."""
    if current_user and current_user.is_authenticated:
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"
