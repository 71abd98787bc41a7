"""Issue 24, "also" item: names that only look alike (``аda`` with a Cyrillic а, ``ｏｔｔｏ`` in full-width
letters) became separate accounts listed beside the real one. A new account whose name looks like an
existing account's is refused, from the identity proxy, the company sign-in or the Users page alike,
saying why and writing it to the security log. Before: the look-alike was signed in with an account of
its own (or created on the Users page)."""
from __future__ import annotations

import html

import pytest

from facesite.access import oidc
from facesite.access.look_alike import skeleton
from facesite.extensions import db
from facesite.models import SecurityEvent, User
from tests.support import PASSWORD, make_app, sign_in
from tests.support.account_pages import csrf

SECRET = "proxy-shared-secret"
CYRILLIC_ADA = "\u0430da"  # а (Cyrillic) d a
FULL_WIDTH_OTTO = "ｏｔｔｏ"


def accounts(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(db.select(User.username)))


def refusals(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(SecurityEvent.detail).filter_by(event="access_denied")))


def as_the_proxy_sends(name: str) -> str:
    """A header value as WSGI hands it over: the proxy's UTF-8 bytes read as Latin-1."""
    return name.encode("utf-8").decode("latin-1")


def test_skeletons_see_through_other_scripts_full_width_and_case():
    assert skeleton(CYRILLIC_ADA) == skeleton(FULL_WIDTH_OTTO.replace("ｏｔｔｏ", "ＡＤＡ")) == "ada"
    assert skeleton(FULL_WIDTH_OTTO) == skeleton("\u03bftto") == "otto"  # and a Greek omicron
    assert skeleton("adam") != skeleton("ada") and skeleton("josé") != skeleton("jose")  # a real letter stays


def test_the_proxy_cannot_bring_in_a_name_that_looks_like_an_account(sandbox):
    app = make_app(sandbox.url, {"AUTH_MODE": "header", "AUTH_PROXY_SECRET": SECRET, "AUTH_DEFAULT_ROLE": "viewer"})
    client = app.test_client()
    before = accounts(app)
    for look_alike in (CYRILLIC_ADA, FULL_WIDTH_OTTO):
        answer = client.get("/enrol/", headers={"X-Forwarded-Email": as_the_proxy_sends(look_alike),
                                                "X-Proxy-Secret": SECRET})
        assert answer.status_code in (302, 401), look_alike  # not signed in
    assert accounts(app) == before
    logged = refusals(app)
    assert any("looks like the account 'ada'" in detail for detail in logged), logged
    assert any("looks like the account 'otto'" in detail for detail in logged), logged
    client.get("/enrol/", headers={"X-Forwarded-Email": "adam@example.com", "X-Proxy-Secret": SECRET})
    assert "adam@example.com" in accounts(app)  # a name of its own still gets in


def test_the_company_sign_in_says_why_a_look_alike_is_refused(sandbox):
    app = make_app(sandbox.url, {"AUTH_MODE": "oidc", "OIDC_ISSUER": "https://id.example.com",
                                 "OIDC_CLIENT_ID": "facesite-portal", "OIDC_CLIENT_SECRET": "a client secret",
                                 "OIDC_OPERATOR_GROUPS": "faces-operators"})
    person = oidc.Identity("https://id.example.com", "sub-1", CYRILLIC_ADA, frozenset({"faces-operators"}), None)
    with app.test_request_context(), pytest.raises(oidc.Refused) as refused:
        oidc.account_for(person)
    assert "looks like the name of another account in this portal" in str(refused.value)
    assert CYRILLIC_ADA not in accounts(app)


def test_an_administrator_cannot_make_an_account_beside_a_look_alike(app):
    with app.app_context():  # brought in by the identity proxy once (break-glass portals have both)
        db.session.add(User(username="\u0430lice@example.com", role="viewer", source="header"))
        db.session.commit()
    admin = sign_in(app.test_client(), "admin")
    answer = admin.post("/admin/users", data={"csrf_token": csrf(admin), "username": "alice@example.com",
                                              "password": PASSWORD, "confirm": PASSWORD, "role": "viewer"})
    assert answer.status_code == 422
    page = html.unescape(answer.get_data(as_text=True))
    assert "'alice@example.com' looks like the name of the account '\u0430lice@example.com'" in page
    assert "alice@example.com" not in accounts(app)
    assert any("looks like the account" in detail for detail in refusals(app))
