"""OpenID Connect sign-in (AUTH_MODE=oidc): the provider's client, and who its verified claims let in.

The flow itself (PKCE with S256, state and nonce kept in the signed session between the two legs, the
ID token's signature, issuer, audience and expiry checked) is Authlib's Flask client; the views are in
facesite/web/auth/oidc.py. This module decides who a verified ID token stands for:

- an account is found by the provider's issuer and subject, never by name: a name that belongs to a
  password or header account (or to a removed one) is refused, so nobody at the provider can take over
  a local account by choosing its name as e-mail address;
- the role comes from the groups in OIDC_ROLE_CLAIM, mapped by OIDC_*_GROUPS, again at every sign-in
  (a change at the provider applies the next time); in none of them, not let in;
- OIDC_ALLOWED_DOMAIN, when set, lets in only verified e-mail addresses of that domain.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from flask_babel import gettext as _, lazy_gettext as _l

from facesite import security_events
from facesite.access import accounts
from facesite.access.sign_on import role_from_groups
from facesite.config import settings
from facesite.extensions import db
from facesite.models import User, utcnow

log = logging.getLogger(__name__)
PROVIDER = "company"  # the client's name inside Authlib (its session keys start with _state_company_)
PROVIDER_TIMEOUT_SECONDS = 10  # discovery, keys and the token request: a provider that hangs must not hold a thread


def init_oidc(app: Flask) -> None:
    """Register the provider's client when AUTH_MODE=oidc. Nothing is fetched here: the discovery document
    is read at the first sign-in, so a provider that is down never stops the portal from starting."""
    config = settings(app)
    if config.auth_mode != "oidc":
        return
    oauth = OAuth(app)
    oauth.register(PROVIDER, client_id=config.oidc_client_id, client_secret=config.oidc_client_secret,
                   server_metadata_url=config.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
                   client_kwargs={"scope": config.oidc_scopes, "code_challenge_method": "S256",
                                  "default_timeout": PROVIDER_TIMEOUT_SECONDS})


def provider():
    """The provider's Authlib client (AUTH_MODE=oidc only)."""
    return current_app.extensions["authlib.integrations.flask_client"].create_client(PROVIDER)


def claims_options(issuer: str) -> dict:
    """What the ID token must carry: the issuer the discovery document named, a subject, this client as
    audience (Authlib checks it against the client id), and an expiry."""
    return {"iss": {"essential": True, "values": [issuer]}, "sub": {"essential": True},
            "aud": {"essential": True}, "exp": {"essential": True}}


class Refused(Exception):
    """The provider vouched for someone the portal does not let in; the message is for them to read."""


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    username: str
    groups: frozenset
    email: str | None


def identity(issuer: str, claims: dict) -> Identity:
    """Who verified ``claims`` stand for. The name shown (and owning results and batch jobs) is the e-mail
    address, else the preferred user name, else the subject."""
    config = settings()
    subject = str(claims.get("sub") or "")
    # Only an address the provider says it verified, in the claim's own JSON true, names someone: a missing
    # claim, false, or the string "false" (some providers send strings) is neither the name nor lets a domain in.
    verified = claims.get("email_verified") is True
    email = claims.get("email") if isinstance(claims.get("email"), str) and verified else None
    name = email or claims.get("preferred_username") or subject
    username = str(name).strip().lower()
    if not subject or len(subject) > 255 or len(issuer) > 255 or not username or len(username) > 254 \
            or any(ord(c) < 33 or c.isspace() for c in username):
        raise Refused(_("The company sign-in sent an identity this portal cannot use."))
    domain = config.oidc_allowed_domain
    if domain and (not email or email.lower().rsplit("@", 1)[-1] != domain):
        raise Refused(_("Only verified e-mail addresses of %(domain)s may use this portal.", domain=domain))
    return Identity(issuer, subject, username, _groups(claims.get(config.oidc_role_claim)), email)


def _groups(value) -> frozenset:
    """The role claim as lower-case group names: a list (the usual form) or a comma- or space-separated text."""
    if isinstance(value, str):
        value = value.replace(",", " ").split()
    if not isinstance(value, (list, tuple)):
        return frozenset()
    return frozenset(str(group).strip().lower() for group in value[:1000] if str(group).strip())


REFUSED = {
    "no_role": _l("Your company account is in none of the groups this portal lets in. Ask an administrator of "
                  "your company's directory to add you to the right group."),
    "name_taken": _l("Your company account's name belongs to another account in this portal. Ask an "
                     "administrator."),
    "look_alike": _l("Your company account's name looks like the name of another account in this portal, and "
                     "staff could not tell them apart. Ask an administrator."),
    "retired": _l("Your company account's name belonged to an account that was removed from this portal. "
                  "Ask an administrator."),
}


def account_for(person: Identity) -> User:
    """The portal's account for a verified identity, made at its first sign-in; its role from the groups now."""
    role = role_from_groups(set(person.groups), settings().oidc_role_groups)
    try:
        user = accounts.account_for(accounts.OutsideIdentity("oidc", person.username, role, person.issuer,
                                                             person.subject))
    except accounts.NotLetIn as refusal:
        raise Refused(str(REFUSED[refusal.reason])) from None
    if not user.is_active:
        security_events.record("access_denied", actor=user.username, subject=user.username,
                               detail="the company sign-in identity of an account disabled in the portal")
        raise Refused(_("Your account in this portal is disabled. Ask one of its administrators."))
    user.last_login_at = utcnow()
    db.session.commit()
    return user

