"""Signing in through the company's OpenID Connect provider (AUTH_MODE=oidc): the two legs of the flow and
signing out there. Who gets in is decided in facesite/access/oidc.py; every failure ends on a page saying
what happened and what to do, never on a 500 and never with the provider's or the client's secrets."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import JoseError

from facesite import security_events
from facesite.access import sessions
from facesite.access.oidc import Refused, account_for, claims_options, identity, provider
from facesite.access.sign_on import safe_next
from facesite.config import settings
from facesite.extensions import limiter
from facesite.web.auth.blueprint import bp, login_rate

log = logging.getLogger(__name__)
NEXT_KEY = "oidc_next"  # where to go once signed in, kept in the session between the two legs


class ProviderProblem(Exception):
    """The provider could not be used as configured (its discovery document names another issuer)."""


def external_url(endpoint: str) -> str:
    """This portal's address of ``endpoint`` as the provider must see it: under PUBLIC_URL when set (which
    includes any mount path), else as this request reached the portal (X-Forwarded-* from trusted proxies)."""
    public = settings().public_url
    if public:
        return public.rstrip("/") + url_for(endpoint)[len(request.script_root):]
    return url_for(endpoint, _external=True)


def problem_page(status: int, title: str, advice: str):
    return render_template("auth/oidc_problem.html", title=title, advice=advice), status


def unreachable():
    return problem_page(502, _("The company sign-in cannot be reached"),
                        _("The portal could not talk to your company's sign-in service. Try again in a few "
                          "minutes; if it keeps happening, tell the administrator."))


def issuer_of(client) -> str:
    """The provider's issuer, from its discovery document, which must name the one configured."""
    issuer = client.load_server_metadata().get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") != settings().oidc_issuer.rstrip("/"):
        raise ProviderProblem(f"the discovery document names issuer {issuer!r}")
    return issuer


@bp.get("/oidc/login")
@limiter.limit(login_rate)  # per client address, like password sign-in
def oidc_login():
    if settings().auth_mode != "oidc":
        abort(404)
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    client = provider()
    try:
        issuer_of(client)
        return client.authorize_redirect(external_url("auth.oidc_callback"))
    except (requests.RequestException, ValueError, RuntimeError, ProviderProblem) as error:
        log.warning("company sign-in not reachable: %s", type(error).__name__)
        return unreachable()


@bp.get("/oidc/callback")
@limiter.limit(login_rate)
def oidc_callback():
    if settings().auth_mode != "oidc":
        abort(404)
    denied = request.args.get("error")
    if denied:
        code = denied[:64]
        security_events.record("sign_in_failed", actor=None, subject="(company sign-in)",
                               detail=f"the provider answered {code}")
        if code == "access_denied":
            return problem_page(403, _("Sign-in cancelled"),
                                _("The company sign-in did not let the portal know who you are (the request "
                                  "was declined). Start again if that was a mistake."))
        return problem_page(400, _("The company sign-in refused"),
                            _("Your company's sign-in service answered '%(code)s'. Start again; if it keeps "
                              "happening, tell the administrator.", code=code))
    client = provider()
    try:
        issuer = issuer_of(client)
        token = client.authorize_access_token(claims_options=claims_options(issuer))
        claims = token.get("userinfo")
        if not claims:
            raise ProviderProblem("no ID token in the token answer")
        person = identity(issuer, with_role_claim(client, token, dict(claims)))
        user = account_for(person)
    except MismatchingStateError:
        security_events.record("sign_in_failed", actor=None, subject="(company sign-in)",
                               detail="unknown or altered state")
        return problem_page(400, _("This sign-in has expired or was altered"),
                            _("The answer from the company sign-in does not belong to a sign-in started in "
                              "this browser (it may be old, or have been changed). Start again."))
    except Refused as refusal:
        return problem_page(403, _("Not let in"), str(refusal))
    except requests.RequestException as error:
        log.warning("company sign-in not reachable: %s", type(error).__name__)
        return unreachable()
    except (OAuthError, AuthlibBaseError, JoseError, ProviderProblem, ValueError, KeyError, TypeError) as error:
        # Only the kind of failure is logged: a provider's description may quote what it was sent.
        log.warning("company sign-in answer refused: %s", type(error).__name__)
        security_events.record("sign_in_failed", actor=None, subject="(company sign-in)",
                               detail=f"answer not verified ({type(error).__name__})")
        return problem_page(400, _("The company sign-in's answer could not be verified"),
                            _("The portal could not confirm who you are from your company's sign-in "
                              "service. Start again; if it keeps happening, tell the administrator."))
    target = session.pop(NEXT_KEY, None) or url_for("main.index")
    sessions.begin(user, id_token=token.get("id_token"))
    security_events.record("sign_in", actor=user.username, subject=user.username, detail="company sign-in")
    return redirect(safe_next(target) or url_for("main.index"), 303)


def with_role_claim(client, token: dict, claims: dict) -> dict:
    """Some providers put groups only in the userinfo answer, not in the ID token: fetched from there when
    missing (for the same subject only)."""
    claim = settings().oidc_role_claim
    if claim in claims or not client.load_server_metadata().get("userinfo_endpoint"):
        return claims
    info = client.userinfo(token=token)
    return {**claims, claim: info.get(claim)} if info.get("sub") == claims.get("sub") else claims


def provider_sign_out(id_token: str | None):
    """After the portal's session ended: the provider's end-session address (RP-initiated logout) with the
    ID token as hint and the sign-in page as the way back, or None when the provider offers none."""
    client = provider()
    try:
        endpoint = client.load_server_metadata().get("end_session_endpoint")
        if not endpoint:
            return None
        return client.create_logout_url(post_logout_redirect_uri=external_url("auth.login"),
                                        id_token_hint=id_token, client_id=client.client_id)["url"]
    except (requests.RequestException, ValueError, RuntimeError) as error:
        log.warning("company sign-out address not available: %s", type(error).__name__)
        return None


def same_origin_as_issuer(url: str) -> bool:
    """The sign-out form may be redirected to the issuer's origin only (the CSP's form-action names it)."""
    issuer = urlsplit(settings().oidc_issuer)
    target = urlsplit(url)
    return (target.scheme, target.netloc) == (issuer.scheme, issuer.netloc)
