"""Signing in with the company's OpenID Connect provider (AUTH_MODE=oidc), end to end in Chromium against a
real provider on loopback: the sign-in button, the provider's page, back signed in with the role its groups
give, refusals, and signing out at both ends."""
from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from facesite.extensions import db
from facesite.models import User
from tests.support import PASSWORD, make_app
from tests.support.oidc_provider import Provider, with_claims
from tests.support.servers import ServerThread
from tests.test_browser import screenshot

CLIENT_SECRET = "client-secret-that-must-stay-hidden"
PEOPLE = {
    "alice-sub": {"email": "alice@example.com", "email_verified": True, "groups": ["faces-operators"]},
    "mallory-sub": {"email": "mallory@example.com", "groups": ["marketing"]},
    "bob-sub": {"email": "bob@elsewhere.org", "groups": ["faces-operators"]},
    "otto-sub": {"preferred_username": "otto", "groups": ["faces-admins"]},  # a password account's name
}


def oidc_env(issuer: str, **more) -> dict:
    return {"AUTH_MODE": "oidc", "OIDC_ISSUER": issuer, "OIDC_CLIENT_ID": "facesite-portal",
            "OIDC_CLIENT_SECRET": CLIENT_SECRET, "OIDC_ADMIN_GROUPS": "faces-admins",
            "OIDC_OPERATOR_GROUPS": "faces-operators", "OIDC_VIEWER_GROUPS": "faces-viewers", **more}


@pytest.fixture
def provider():
    server = Provider(PEOPLE)
    yield server
    server.stop()


@pytest.fixture
def oidc_app(sandbox, provider):
    return make_app(sandbox.url, oidc_env(provider.url))


@pytest.fixture
def portal(oidc_app):
    server = ServerThread(oidc_app)
    yield server
    server.stop()


def stay_on_loopback(route):
    """The provider's pages name a style sheet on the internet: nothing leaves this machine in the tests."""
    host = urlsplit(route.request.url).hostname
    route.continue_() if host in ("127.0.0.1", "localhost") else route.abort()


@pytest.fixture
def page(browser, portal):
    context = browser.new_context(base_url=portal.url, viewport={"width": 1000, "height": 700})
    context.route("**/*", stay_on_loopback)
    yield context.new_page()
    context.close()


def sign_in_at_provider(page, sub: str, shot: str | None = None):
    """From any portal page: the sign-in button, then the person's button on the provider's page."""
    page.click("#company-sign-in")
    expect(page.locator("h1")).to_have_text("Authorize Client")
    if shot:
        screenshot(page, shot)
    page.click(f"button[name='sub'][value='{sub}']")


def account(app, username: str) -> User | None:
    with app.app_context():
        return db.session.scalar(db.select(User).filter_by(username=username))


def test_staff_sign_in_with_the_company_account_and_get_the_role_of_their_groups(page, provider, oidc_app):
    page.goto("/enrol/")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator("#password")).to_have_count(0)  # no password sign-in in this mode
    screenshot(page, "oidc-1-sign-in-button")
    sign_in_at_provider(page, "alice-sub", shot="oidc-2-provider-page")
    expect(page.locator(".account")).to_contain_text("alice@example.com (operator)")
    assert urlsplit(page.url).path == "/enrol/"  # back where they were going
    screenshot(page, "oidc-3-signed-in")
    user = account(oidc_app, "alice@example.com")
    assert (user.source, user.identity_issuer, user.identity_subject, user.password_hash) == \
        ("oidc", provider.url, "alice-sub", None)

    # The flow was the safe one: PKCE with S256, a state and a nonce, and the verifier matching the challenge.
    _, _, query, _ = provider.recorder.seen("/oauth2/authorize")[0]
    assert query["code_challenge_method"] == ["S256"] and query["state"][0] and query["nonce"][0]
    _, _, _, form = provider.recorder.seen("/oauth2/token")[0]
    verifier = form["code_verifier"][0]
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert query["code_challenge"] == [expected]
    assert CLIENT_SECRET not in page.content()


def test_the_role_follows_the_groups_at_every_sign_in_and_sign_out_ends_both_sessions(page, provider, portal):
    page.goto("/")
    sign_in_at_provider(page, "alice-sub")
    expect(page.locator(".account")).to_contain_text("(operator)")
    provider.set_claims("alice-sub", {**PEOPLE["alice-sub"], "groups": ["faces-admins"]})
    page.click("text=Sign out")
    # RP-initiated logout: the provider's end-session page, with the ID token as hint and the way back here.
    expect(page.locator("h1")).to_have_text("End Session")
    _, _, query, _ = provider.recorder.seen("/oauth2/end_session")[0]
    assert query["id_token_hint"][0].count(".") == 2
    assert query["post_logout_redirect_uri"] == [f"{portal.url}/auth/login"]
    screenshot(page, "oidc-5-provider-sign-out")
    page.click("button:has-text('End session')")
    expect(page.locator(".flash")).to_have_text("You are signed out.")
    page.goto("/enrol/")
    expect(page.locator("h1")).to_have_text("Sign in")  # the portal's session ended
    sign_in_at_provider(page, "alice-sub")
    expect(page.locator(".account")).to_contain_text("alice@example.com (admin)")  # the provider's groups now
    expect(page.locator("nav")).to_contain_text("Users")


def test_without_an_end_session_address_sign_out_ends_the_portal_session_and_says_so(page, provider):
    provider.recorder.no_end_session = True
    page.goto("/")
    sign_in_at_provider(page, "alice-sub")
    page.click("text=Sign out")
    expect(page.locator("h1")).to_have_text("Signed out")
    expect(page.locator("main")).to_contain_text("company's sign-on may still be open")
    page.click("text=Sign in again")
    expect(page.locator("#company-sign-in")).to_be_visible()
    page.goto("/register/")
    expect(page.locator("h1")).to_have_text("Sign in")
    assert provider.recorder.seen("/oauth2/end_session") == []


def test_someone_in_none_of_the_groups_is_refused_with_a_page_that_says_why(page, oidc_app):
    page.goto("/")
    sign_in_at_provider(page, "mallory-sub")
    expect(page.locator("h1")).to_have_text("Not let in")
    expect(page.locator(".advice")).to_contain_text("none of the groups")
    screenshot(page, "oidc-4-refused")
    assert account(oidc_app, "mallory@example.com") is None
    page.goto("/register/")
    expect(page.locator("h1")).to_have_text("Sign in")


def test_an_altered_state_is_refused(page, oidc_app):
    def alter_state(route):
        """The provider's answer sends the browser back with a state this browser never started."""
        if route.request.method != "POST":
            return route.continue_()
        answer = route.fetch(max_redirects=0)
        back = answer.headers["location"].replace("state=", "state=x", 1)
        route.fulfill(response=answer, headers={**answer.headers, "location": back})

    page.route(lambda url: "/oauth2/authorize" in url, alter_state)
    page.goto("/")
    sign_in_at_provider(page, "alice-sub")
    expect(page.locator("h1")).to_have_text("This sign-in has expired or was altered")
    assert account(oidc_app, "alice@example.com") is None


def test_a_forged_id_token_is_refused(page, provider, oidc_app):
    provider.recorder.alter_id_token = lambda token: with_claims(token, groups=["faces-admins"])
    page.goto("/")
    sign_in_at_provider(page, "mallory-sub")
    expect(page.locator("h1")).to_have_text("The company sign-in's answer could not be verified")
    assert account(oidc_app, "mallory@example.com") is None


def test_a_declined_consent_is_a_clear_page(page):
    page.goto("/")
    page.click("#company-sign-in")
    page.click("button[value='deny']")
    expect(page.locator("h1")).to_have_text("Sign-in cancelled")


def test_a_company_account_never_becomes_a_password_account_of_the_same_name(page, oidc_app):
    page.goto("/")
    sign_in_at_provider(page, "otto-sub")
    expect(page.locator(".advice")).to_contain_text("belongs to another account")
    otto = account(oidc_app, "otto")
    assert (otto.source, otto.role, otto.identity_subject) == ("local", "operator", None)


def test_only_the_allowed_e_mail_domain_gets_in(sandbox, provider, browser):
    app = make_app(sandbox.url, oidc_env(provider.url, OIDC_ALLOWED_DOMAIN="example.com"))
    server = ServerThread(app)
    context = browser.new_context(base_url=server.url)
    context.route("**/*", stay_on_loopback)
    page = context.new_page()
    try:
        page.goto("/")
        sign_in_at_provider(page, "bob-sub")
        expect(page.locator(".advice")).to_contain_text("Only verified e-mail addresses of example.com")
        assert account(app, "bob@elsewhere.org") is None
        page.goto("/auth/login")
        sign_in_at_provider(page, "alice-sub")
        expect(page.locator(".account")).to_contain_text("alice@example.com")
    finally:
        context.close()
        server.stop()


def test_passwords_and_the_setup_link_are_off_and_a_provider_that_is_down_gets_a_page(sandbox, caplog):
    from facesite.sandbox.launcher import free_port

    # Nobody listens at the issuer's address. (No CSRF check: the password is what must be refused here.)
    app = make_app(sandbox.url, oidc_env(f"http://127.0.0.1:{free_port()}"), WTF_CSRF_ENABLED=False)
    assert "/auth/setup/" not in caplog.text
    client = app.test_client()
    answer = client.post("/auth/login", data={"username": "ada", "password": PASSWORD})
    assert answer.status_code == 401 and "Sign in with your company account" in answer.get_data(as_text=True)
    assert client.get("/auth/setup/" + "x" * 32).status_code == 404
    down = client.get("/auth/oidc/login")
    assert down.status_code == 502 and "cannot be reached" in down.get_data(as_text=True)
    forged = client.get("/auth/oidc/callback?code=x&state=y")
    assert forged.status_code in (400, 502)
    for page in (answer, down, forged):
        assert CLIENT_SECRET not in page.get_data(as_text=True)
    assert CLIENT_SECRET not in caplog.text


def test_company_sign_in_and_out_work_under_a_mount_path(sandbox, provider, browser):
    from tests.support.mount_proxy import MountingProxy

    portal = ServerThread(make_app(sandbox.url, oidc_env(provider.url, TRUSTED_PROXY_HOPS="1")))
    proxy = MountingProxy(portal.url)
    context = browser.new_context()
    context.route("**/*", stay_on_loopback)
    page = context.new_page()
    try:
        page.goto(proxy.url + "/faces/register/")
        sign_in_at_provider(page, "alice-sub")
        expect(page.locator(".account")).to_contain_text("alice@example.com")
        assert page.url == proxy.url + "/faces/register/"
        _, _, query, _ = provider.recorder.seen("/oauth2/authorize")[0]
        assert query["redirect_uri"] == [proxy.url + "/faces/auth/oidc/callback"]
        page.click("text=Sign out")
        page.click("button:has-text('End session')")
        expect(page.locator(".flash")).to_have_text("You are signed out.")
        assert page.url.startswith(proxy.url + "/faces/auth/login")
        assert proxy.escaped == []
    finally:
        context.close()
        proxy.stop()
        portal.stop()


def test_the_company_sign_in_pages_have_no_serious_accessibility_problem(browser, portal):
    from tests.test_browser_photos import AXE, serious_violations

    context = browser.new_context(base_url=portal.url, bypass_csp=True)  # bypass: to inject axe only
    context.route("**/*", stay_on_loopback)
    page = context.new_page()
    page.goto("/auth/login")
    found = {"sign-in": serious_violations(page)}
    sign_in_at_provider(page, "mallory-sub")
    expect(page.locator("h1")).to_have_text("Not let in")
    found["refused"] = serious_violations(page)
    context.close()
    assert AXE.exists() and {name: v for name, v in found.items() if v} == {}, found


@pytest.mark.parametrize("verified", [None, False, "false", "true", 1])
def test_only_an_address_the_provider_verified_names_the_account_or_opens_the_domain(fake_vendor, verified):
    """Issue 24, finding 2: a missing ``email_verified``, or anything but JSON true, verifies nothing."""
    from facesite.access.oidc import Refused, identity

    claims = {"sub": "carol-sub", "email": "carol@example.com", "preferred_username": "carol",
              **({} if verified is None else {"email_verified": verified})}
    open_app = make_app(fake_vendor.url, oidc_env("https://id.example.com"))
    with open_app.app_context():
        assert identity("https://id.example.com", claims).username == "carol"  # not the unverified address
        assert identity("https://id.example.com", {**claims, "email_verified": True}).username == "carol@example.com"
    domain_app = make_app(fake_vendor.url, oidc_env("https://id.example.com", OIDC_ALLOWED_DOMAIN="example.com"))
    with domain_app.app_context(), pytest.raises(Refused):
        identity("https://id.example.com", claims)
