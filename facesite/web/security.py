"""Security headers, rate limits and the setup that makes the portal safe on the open internet."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, redirect, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from facesite.config import settings
from facesite.extensions import limiter, talisman


def content_security_policy(frame_ancestors: list[str], form_targets: tuple[str, ...] = ()) -> dict:
    # No inline script or style anywhere: every script and stylesheet is a file under /static.
    # form_targets: origins a form's answer may redirect to (the company sign-in's, for signing out there).
    return {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": ["'self'", *form_targets],
        "frame-ancestors": frame_ancestors or "'none'",
    }


def configure_security(app: Flask) -> None:
    ancestors = settings(app).frame_ancestors
    talisman.init_app(
        app,
        content_security_policy=content_security_policy(ancestors, sign_in_origins(settings(app))),
        # frame-ancestors decides framing; X-Frame-Options cannot name other origins.
        frame_options="DENY" if not ancestors else None,
        force_https=False,  # see redirect_to_https: loopback and the router's HTTPS are told apart there
        strict_transport_security=True,  # Talisman sends HSTS on HTTPS requests only
        session_cookie_secure=settings(app).session_cookie_secure,
        session_cookie_samesite=settings(app).session_cookie_samesite,
        session_cookie_http_only=True,
    )
    app.session_interface = MountedSessionInterface()
    limiter.init_app(app)
    if settings(app).force_https:  # first of all: not even the sign-in redirect goes out over plain HTTP
        app.before_request_funcs.setdefault(None, []).insert(0, redirect_to_https)
    app.after_request(no_store)


class MountedSessionInterface(SecureCookieSessionInterface):
    """The session cookie (sign-in, CSRF token, messages) belongs to the path the portal is served under
    (SCRIPT_NAME, or X-Forwarded-Prefix from a trusted proxy), not to every application on the host."""

    def get_cookie_path(self, app: Flask) -> str:
        return app.config["SESSION_COOKIE_PATH"] or request.script_root or "/"


def sign_in_origins(config) -> tuple[str, ...]:
    """The company sign-in's origin under AUTH_MODE=oidc: signing out sends the browser there from a form."""
    if config.auth_mode != "oidc":
        return ()
    issuer = urlsplit(config.oidc_issuer)
    return (f"{issuer.scheme}://{issuer.netloc}",)


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
    public = settings().public_url
    if public and public.startswith("https://"):  # the portal's own address, not whatever Host was sent
        return redirect(public.rstrip("/") + request.full_path.rstrip("?"), 301)
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


def host_is_usable(host: str) -> bool:
    """Whether a Host header can name this site in links: werkzeug's URL building encodes it with IDNA,
    which refuses empty labels (``a..b``, ``.``) and labels over 63 characters."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else ""  # an IPv6 literal needs no IDNA
    try:
        name.encode("idna")
    except UnicodeError:
        return False
    return len(host) <= 255


class RefuseUnusableHost:
    """WSGI middleware: a request whose Host header cannot name a site gets a plain 400 before Flask,
    which could build no link for it (not even on its own error page)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if host_is_usable(environ.get("HTTP_HOST", "")):
            return self.wsgi_app(environ, start_response)
        body = b"Bad request: the Host header does not name a web site.\n"
        start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8"),
                                           ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return [body]


class DatabaseIdConverter(IntegerConverter):
    """``<int:…>`` in every URL: an id the database can hold (PostgreSQL's integer), so a huge number
    is a plain 404 rather than an overflow inside the database driver."""

    def __init__(self, map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002  (werkzeug's names)
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
