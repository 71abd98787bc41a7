"""An administrator (or the command line) hands someone a one-time link to choose a new password.

Making a link changes nothing about the account: its sessions go on until the new password is set
through the link, which ends them all and lifts a sign-in hold on the name. Both steps are in the
security log, which never holds the link's secret part (only its row id).
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from flask import has_request_context, request
from flask_babel import gettext as _

from facesite import config, security_events
from facesite.access import links, passwords, sessions, throttle
from facesite.access.accounts import AccountError
from facesite.access.sign_on import passwords_allowed
from facesite.config import settings
from facesite.extensions import db
from facesite.models import OneTimeLink, User

PATH = "/auth/reset/"  # the auth blueprint's reset_password view (kept out of logs: log_format.py)
DISABLED = "disabled"  # a valid link for an account that is disabled now (beside links.VALID, ...)


def make_link(user: User, made_by: str) -> tuple[str, OneTimeLink]:
    """A new reset link for ``user`` (retiring any earlier one): its token and row. Only for an enabled
    account that signs in with a password of the portal, while password sign-in is on."""
    if not passwords_allowed():
        raise AccountError(_("Password sign-in is off in this portal (AUTH_MODE=%(mode)s without AUTH_BREAK_GLASS=1): "
                             "a reset link would lead nowhere.", mode=settings().auth_mode))
    if user.source != "local":
        raise AccountError(_("%(name)s signs in %(how)s: a reset link is only for accounts with a password.",
                             name=user.username, how=user.signs_in))
    if not user.is_active:
        raise AccountError(_("%(name)s is disabled: enable the account before making a reset link.",
                             name=user.username))
    if not trusted_address():
        raise AccountError(_("A reset link names this portal's address, and PUBLIC_URL, which sets it, is not set: "
                             "the address this page came to (%(host)s) was sent by the browser and cannot be "
                             "trusted. Set PUBLIC_URL to the portal's address (see the README), then make the link.",
                             host=request.host))
    hours = settings().password_reset_link_hours
    token, link = links.issue(links.RESET, hours, user_id=user.id, made_by=made_by)
    security_events.record("reset_link_made", actor=made_by, subject=user.username,
                           detail=f"link {link.id}, works once until {link.expires_at:%Y-%m-%d %H:%M} UTC")
    return token, link


def trusted_address() -> bool:
    """Whether ``address`` may build a link here. The Host a request names is the client's to choose (a
    proxy passes on what it was sent): without PUBLIC_URL a link is built from it only when it is the
    loopback, which leads nowhere but the reader's own machine, never to a host that would collect the
    token. The command line prints the path alone."""
    if settings().public_url or not has_request_context():
        return True
    host = urlsplit(request.url_root).hostname or ""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def address(token: str) -> str:
    """Where the link is opened: under PUBLIC_URL when set, else the (loopback: ``trusted_address``)
    address this request came to, else (the command line) the path alone."""
    public_url = config.settings().public_url
    if public_url:
        return public_url.rstrip("/") + PATH + token
    if has_request_context():
        return request.url_root.rstrip("/") + PATH + token
    return config.settings().script_name + PATH + token


def account_for(found: links.Found) -> tuple[str, User | None]:
    """Whether a reset link found by links.look_up may be used, and for which account. An account removed
    (or an id given again later, which SQLite may do) makes the link unknown."""
    if found.state != links.VALID:
        return found.state, None
    link = found.link
    user = db.session.get(User, link.user_id)
    if user is None or user.source != "local" or (link.created_at and user.created_at > link.created_at):
        return links.UNKNOWN, None
    if not user.is_active:
        return DISABLED, None
    return links.VALID, user


def set_new_password(link: OneTimeLink, user: User, password: str) -> bool:
    """Use the link and set the password in one transaction. False: the link was used a moment ago.
    A password the rule refuses (passwords.WeakPassword) leaves the link unused."""
    passwords.set_password(user, password)
    if not links.use(link):
        db.session.rollback()
        return False
    db.session.commit()
    ended = sessions.end_all_sessions(user.id)
    throttle.clear(user.username)  # a hold on the name (the reason for the reset, often) is lifted
    security_events.record("password_reset", actor=user.username, subject=user.username,
                           detail=f"with reset link {link.id} made by {link.made_by}; open sessions ended: {ended}")
    return True
