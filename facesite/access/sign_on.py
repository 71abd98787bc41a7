"""Who the visitor is: sign-in, header sign-on, safe redirects. What they may do is in policy.py."""
from __future__ import annotations

import hmac
import logging
from urllib.parse import unquote, urlsplit

from flask import request

from facesite.access import sessions
from facesite.access.accounts import NotLetIn, OutsideIdentity, account_for
from facesite.config import settings
from facesite.extensions import login_manager
from facesite.models import ROLES

log = logging.getLogger(__name__)


def safe_next(target: str | None) -> str | None:
    """Only a path of this portal: never another host (no open redirect), never outside the path the portal is
    mounted under, never a control character (a CR/LF would split the Location header) nor other than ASCII (a
    Location header cannot carry it as it is)."""
    if not target or len(target) > 2000 or not target.isascii() or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    # "/faces/../other" starts with the mount path yet leaves it once a browser resolves the dots (%2e too).
    if any(segment in (".", "..") for segment in unquote(parts.path).split("/")):
        return None
    mount = request.script_root
    if mount and target != mount and not target.startswith(mount + "/"):
        return None
    return target


def passwords_allowed() -> bool:
    """Password sign-in (and the first-administrator link) exist in builtin mode; under header sign-on
    only when an administrator has turned on the break-glass setting."""
    config = settings()
    return config.auth_mode == "builtin" or config.auth_break_glass


@login_manager.user_loader
def load_user(user_id: str):
    """The user of a session (checked against the server's session table on every request): a password
    session, or under OpenID Connect one the provider's sign-in began. Under header sign-on a request that
    comes through the proxy is the proxy's user, whatever cookie it carries; outside builtin mode a password
    session counts only with break-glass on."""
    mode = settings().auth_mode
    if mode == "header" and (not passwords_allowed() or _proxy_secret_ok(request)):
        return None
    user = sessions.user_for_request(user_id)
    if user is None:
        return None
    if user.source == "local":
        return user if passwords_allowed() else None
    return user if user.source == "oidc" and mode == "oidc" else None


def _proxy_secret_ok(req) -> bool:
    # Compared as bytes: a header value may hold any byte, and compare_digest refuses non-ASCII text.
    sent = req.headers.get("X-Proxy-Secret", "").encode("latin-1", "replace")
    expected = (settings().auth_proxy_secret or "").encode("utf-8")
    return bool(expected) and hmac.compare_digest(sent, expected)


def _identity(req, header: str) -> str | None:
    """A proxy header's value as the proxy meant it: sent once (a second copy may be the client's own,
    passed along beside the proxy's), UTF-8 (WSGI hands headers over as Latin-1), without case."""
    values = req.headers.getlist(header)
    if len(values) != 1:
        return None
    try:
        return values[0].encode("latin-1").decode("utf-8").strip().lower()
    except UnicodeError:
        return None


def _groups(req) -> set[str]:
    header = settings().auth_groups_header
    raw = _identity(req, header) if header else ""
    return {group.strip().lower() for group in (raw or "").replace(";", ",").split(",") if group.strip()}


def proxy_role(req) -> str | None:
    """The role the proxy's identity gets: from its groups when a group header is configured (highest
    mapped role wins; no mapped group, no entry), else AUTH_DEFAULT_ROLE. None: not let in."""
    config = settings()
    groups = _groups(req)
    if config.auth_allowed_groups and not groups & config.auth_allowed_groups:
        return None
    if not config.auth_groups_header:
        return config.auth_default_role
    return role_from_groups(groups, config.auth_role_groups)


def role_from_groups(groups: set[str], role_groups: dict) -> str | None:
    """The highest role one of ``groups`` (lower case) gives by ``role_groups`` (role -> groups); None: no role."""
    for role in reversed(ROLES):
        if groups & role_groups.get(role, frozenset()):
            return role
    return None


@login_manager.request_loader
def user_from_proxy(req):
    """AUTH_MODE=header: trust the identity proxy's user header, but only with the shared secret, and
    only for accounts the proxy itself made: a proxy identity never becomes a local account."""
    config = settings()
    if config.auth_mode != "header" or not _proxy_secret_ok(req):
        return None
    username = _identity(req, config.auth_header)
    # A comma is how a server joins a header sent twice (the Procfile's server refuses that outright).
    if not username or len(username) > 254 or any(ord(c) < 33 or c.isspace() or c == "," for c in username):
        return None
    try:
        user = account_for(OutsideIdentity("header", username, proxy_role(req)),
                           role_follows_groups=bool(config.auth_groups_header))
    except NotLetIn:
        return None
    return user if user.is_active else None
