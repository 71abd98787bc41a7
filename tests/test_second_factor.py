"""Issue 24, item 5: a second factor (TOTP) for password accounts, with one-time recovery codes.

The codes are made as a person's app makes them: pyotp with the secret read off the setup page. The portal's
clock is a fake one here, so each test chooses which 30-second step a code belongs to.
"""
from __future__ import annotations

import re
import sqlite3
from types import SimpleNamespace

import pyotp
import pytest

from facesite.access import second_factor
from facesite.config import Settings, settings
from facesite.extensions import db
from facesite.models import SecurityEvent, User
from tests.support import PASSWORD, EnrolPage, make_app, sign_in
from tests.support.servers import ServerThread
from tests.support.staff_work import csrf_token

SETUP = "/auth/security/second-factor"
SECOND_STEP = "/auth/second-step"
START = 1_800_000_000.0  # the fake clock's first moment: a step boundary (a multiple of 30)


class Clock:
    def __init__(self):
        self.now = START + 1

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(second_factor, "time", SimpleNamespace(time=fake.time))
    return fake


def required_app(sandbox, **env):
    """A portal that keeps its own default: administrators must have a second factor."""
    return make_app(sandbox.url, {"MFA_REQUIRED_ROLES": "admin", **env})


def csrf(client, path: str) -> str:
    return EnrolPage.hidden(client.get(path).get_data(as_text=True), "csrf_token")


def secret_on(page: str) -> str:
    return re.search(r'id="factor-secret">([^<]+)<', page).group(1).replace(" ", "")


def recovery_codes_on(page: str) -> list[str]:
    listed = re.search(r'id="recovery-codes">(.*?)</ol>', page, re.DOTALL).group(1)
    return re.findall(r"<li>([^<]+)</li>", listed)


def set_up(client, clock, current: str | None = None) -> tuple[str, list[str]]:
    """Sets a factor up as a person does; (its secret, the recovery codes shown once)."""
    page = client.get(SETUP).get_data(as_text=True)
    secret = secret_on(page)
    data = {"csrf_token": EnrolPage.hidden(page, "csrf_token"), "code": pyotp.TOTP(secret).at(clock.now)}
    if current:
        data["current"] = current
    answer = client.post(SETUP, data=data)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    codes = recovery_codes_on(answer.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def password_step(client, username: str):
    answer = client.post("/auth/login", data={"csrf_token": csrf(client, "/auth/login"), "username": username,
                                              "password": PASSWORD})
    return answer


def code_step(client, code: str):
    return client.post(SECOND_STEP, data={"csrf_token": csrf(client, SECOND_STEP), "code": code})


def sign_out(client) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client)})


def events(app, event: str) -> list[SecurityEvent]:
    with app.app_context():
        return db.session.scalars(db.select(SecurityEvent).filter_by(event=event)).all()


def test_the_portal_asks_administrators_for_a_second_factor_unless_told_otherwise():
    assert Settings.for_tests(None, {}).mfa_required_roles == {"admin"}
    assert Settings.for_tests(None, {"MFA_REQUIRED_ROLES": "none"}).mfa_required_roles == frozenset()
    assert Settings.for_tests(None, {"MFA_REQUIRED_ROLES": "operator, admin"}).mfa_required_roles == {"operator",
                                                                                                      "admin"}
    with pytest.raises(RuntimeError, match="MFA_REQUIRED_ROLES"):
        Settings.for_tests(None, {"MFA_REQUIRED_ROLES": "boss"})


def test_an_administrator_sets_the_factor_up_before_any_page_then_signs_in_with_a_code(sandbox, clock):
    app = required_app(sandbox)
    client = sign_in(app.test_client(), "admin")
    for path in ("/", "/admin/users", "/search/", "/auth/password", "/auth/security", "/preferences"):
        answer = client.get(path)
        assert answer.status_code == 302 and answer.headers["Location"].endswith(SETUP), path
    page = client.get(SETUP).get_data(as_text=True)
    assert "Your role needs a second factor" in page
    assert 'src="data:image/svg+xml' in page  # the QR code, an image the CSP allows (no script)
    secret = secret_on(page)
    assert re.search(r'id="factor-secret">(\w{4} )+\w{1,4}<', page)  # grouped, for typing by hand
    wrong = client.post(SETUP, data={"csrf_token": EnrolPage.hidden(page, "csrf_token"), "code": "000000"})
    assert wrong.status_code == 422 and "is not the one the new app shows" in wrong.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 302  # still not on
    set_up(client, clock)
    assert secret_on(client.get(SETUP).get_data(as_text=True)) != secret  # a new app would get a new secret
    assert client.get("/admin/users").status_code == 200
    security = client.get("/auth/security").get_data(as_text=True)
    assert "On: you sign in with your password and a code" in security and "10 recovery codes left" in security
    assert [event.subject for event in events(app, "second_factor_on")] == ["ada"]
    sign_out(client)

    answer = password_step(client, "ada")
    assert answer.status_code == 303 and answer.headers["Location"].endswith(SECOND_STEP)
    # Half signed in: every page but the second step's sends the browser to sign in.
    for path in ("/", "/admin/users", SETUP, "/auth/security"):
        assert client.get(path).headers["Location"].startswith("/auth/login"), path
    assert "type the 6-digit code" in client.get(SECOND_STEP).get_data(as_text=True)
    clock.now += 30
    answer = code_step(client, pyotp.TOTP(secret).at(clock.now))
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    assert client.get("/admin/users").status_code == 200


def test_a_wrong_code_is_refused_and_counts_toward_the_lock_out(sandbox, clock):
    app = make_app(sandbox.url, {"LOGIN_MAX_FAILURES": "3"})
    client = sign_in(app.test_client(), "viewer")
    secret, _ = set_up(client, clock)
    sign_out(client)
    clock.now += 30
    assert password_step(client, "vera").status_code == 303  # try 1 of 3
    answer = code_step(client, "123456")  # try 2
    page = answer.get_data(as_text=True)
    assert answer.status_code == 401 and "That code is wrong or was used already." in page
    assert "1 try left before this username is locked" in page
    assert "No tries left" in code_step(client, "654321").get_data(as_text=True)  # try 3
    answer = code_step(client, pyotp.TOTP(secret).at(clock.now))  # right, but too late
    assert answer.status_code == 429 and "Too many wrong codes" in answer.get_data(as_text=True)
    assert client.get("/").headers["Location"].startswith("/auth/login")
    # The password alone cannot buy new tries: the same lock holds at the first step.
    assert password_step(client, "vera").status_code == 429
    assert len(events(app, "second_factor_failed")) == 2


def test_a_code_already_used_in_its_window_is_refused(sandbox, clock):
    app = make_app(sandbox.url)
    client = sign_in(app.test_client(), "viewer")
    secret, _ = set_up(client, clock)  # the code of this step, used
    sign_out(client)
    password_step(client, "vera")
    used = pyotp.TOTP(secret).at(clock.now)
    answer = code_step(client, used)
    assert answer.status_code == 401 and "was used already" in answer.get_data(as_text=True)
    clock.now += 30
    assert code_step(client, pyotp.TOTP(secret).at(clock.now)).status_code == 303
    sign_out(client)
    password_step(client, "vera")
    assert code_step(client, pyotp.TOTP(secret).at(clock.now)).status_code == 401  # that one too, now


def test_a_recovery_code_works_once(sandbox, clock):
    app = make_app(sandbox.url)
    client = sign_in(app.test_client(), "viewer")
    _, codes = set_up(client, clock)
    sign_out(client)
    password_step(client, "vera")
    assert code_step(client, codes[3].upper()).status_code == 303  # as typed off paper, in capitals
    assert "9 recovery codes left" in client.get("/auth/security").get_data(as_text=True)
    assert [event.detail for event in events(app, "recovery_code_used")] == ["recovery codes left: 9"]
    sign_out(client)
    password_step(client, "vera")
    assert code_step(client, codes[3]).status_code == 401


def test_new_recovery_codes_and_a_new_app_each_take_a_current_code(sandbox, clock):
    app = make_app(sandbox.url)
    client = sign_in(app.test_client(), "viewer")
    secret, old_codes = set_up(client, clock)
    clock.now += 30
    token = csrf(client, "/auth/security")
    refused = client.post("/auth/security/recovery-codes", data={"csrf_token": token, "current": "000000"})
    assert refused.status_code == 422 and "That code is wrong" in refused.get_data(as_text=True)
    made = client.post("/auth/security/recovery-codes", data={"csrf_token": token, "current": pyotp.TOTP(secret).at(clock.now)})
    new_codes = recovery_codes_on(made.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    clock.now += 30
    page = client.get(SETUP).get_data(as_text=True)
    assert 'id="current"' in page  # replacing the factor asks for the old one's code
    new_secret, _ = set_up(client, clock, current=pyotp.TOTP(secret).at(clock.now))
    assert new_secret != secret
    sign_out(client)
    clock.now += 30
    password_step(client, "vera")
    assert code_step(client, old_codes[0]).status_code == 401
    assert code_step(client, pyotp.TOTP(secret).at(clock.now)).status_code == 401
    assert code_step(client, new_codes[0]).status_code == 401  # replaced with the new app's own codes
    assert code_step(client, pyotp.TOTP(new_secret).at(clock.now)).status_code == 303


def test_an_administrator_resets_a_factor_and_ends_the_persons_sessions(sandbox, clock):
    app = make_app(sandbox.url)
    vera = sign_in(app.test_client(), "viewer")
    set_up(vera, clock)
    admin = sign_in(app.test_client(), "admin")
    with app.app_context():
        vera_id = db.session.scalar(db.select(User.id).filter_by(username="vera"))
    page = admin.get(f"/admin/users/{vera_id}").get_data(as_text=True)
    assert "On: vera signs in with a code" in page
    answer = admin.post(f"/admin/users/{vera_id}/second-factor/reset", data={"csrf_token": csrf_token(admin)},
                        follow_redirects=True)
    assert "The second factor of vera is reset" in answer.get_data(as_text=True)
    assert "Off: vera signs in with the password alone." in answer.get_data(as_text=True)
    assert vera.get("/").headers["Location"].startswith("/auth/login")  # signed out
    assert password_step(vera, "vera").headers["Location"] == "/"  # and back with the password alone
    [event] = events(app, "second_factor_reset")
    assert event.actor == "ada" and event.subject == "vera" and "open sessions ended: 1" in event.detail


def test_required_roles_none_turns_the_forcing_off(sandbox):
    app = make_app(sandbox.url, {"MFA_REQUIRED_ROLES": "none"})
    client = sign_in(app.test_client(), "admin")
    assert client.get("/admin/users").status_code == 200
    assert "Off: you sign in with your password alone." in client.get("/auth/security").get_data(as_text=True)


def test_other_roles_are_forced_when_listed_and_signing_out_still_works(sandbox):
    app = make_app(sandbox.url, {"MFA_REQUIRED_ROLES": "viewer,operator"})
    operator = sign_in(app.test_client(), "operator")
    assert operator.get("/enrol/").headers["Location"].endswith(SETUP)
    answer = operator.post("/auth/logout", data={"csrf_token": csrf_token(operator)})
    assert answer.status_code == 303 and answer.headers["Location"] == "/auth/login"
    assert operator.get("/enrol/").headers["Location"].startswith("/auth/login")  # signed out, not to the setup
    assert sign_in(app.test_client(), "admin").get("/admin/users").status_code == 200


def test_a_secret_shown_but_never_confirmed_is_purged_after_a_day(sandbox):
    from datetime import timedelta

    from facesite.models import SecondFactor, utcnow
    from facesite.retention import purge

    app = make_app(sandbox.url)
    sign_in(app.test_client(), "viewer").get(SETUP)
    with app.app_context():
        assert db.session.scalar(db.select(SecondFactor.pending_sealed)) is not None
        assert purge(utcnow() + timedelta(hours=1))["factor_secrets"] == 0
        assert purge(utcnow() + timedelta(hours=25))["factor_secrets"] == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(SecondFactor)) == 0


def test_break_glass_under_header_sign_on_needs_the_factor_but_the_proxy_does_not(sandbox):
    secret = "proxy-secret"
    app = required_app(sandbox, AUTH_MODE="header", AUTH_PROXY_SECRET=secret, AUTH_BREAK_GLASS="1",
                       AUTH_DEFAULT_ROLE="admin")
    client = sign_in(app.test_client(), "admin")
    assert client.get("/admin/users").headers["Location"].endswith(SETUP)
    proxied = app.test_client().get("/admin/users", headers={"X-Proxy-Secret": secret,
                                                             "X-Forwarded-Email": "boss@example.com"})
    assert proxied.status_code == 200  # the company's provider asks for its own second factor


def test_the_secret_and_the_codes_are_not_kept_in_clear(sandbox, clock, caplog):
    app = make_app(sandbox.url)
    client = sign_in(app.test_client(), "viewer")
    secret, codes = set_up(client, clock)
    path = settings(app).sqlalchemy_database_uri.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        [(sealed, pending)] = connection.execute("SELECT secret_sealed, pending_sealed FROM second_factors").fetchall()
        hashes = [row[0] for row in connection.execute("SELECT code_hash FROM recovery_codes")]
    assert sealed and pending is None and secret not in sealed and secret.lower() not in sealed.lower()
    assert len(hashes) == 10 and not any(code.replace("-", "") in h for code in codes for h in hashes)
    logged = caplog.text + "".join(str(event.detail) for event in events(app, "second_factor_on"))
    assert secret not in logged and not any(code in logged for code in codes)


def test_removing_an_account_removes_its_factor_and_codes(sandbox, clock):
    app = make_app(sandbox.url)
    set_up(sign_in(app.test_client(), "viewer"), clock)
    admin = sign_in(app.test_client(), "admin")
    with app.app_context():
        vera_id = db.session.scalar(db.select(User.id).filter_by(username="vera"))
    admin.post(f"/admin/users/{vera_id}/remove", data={"csrf_token": csrf_token(admin)})
    path = settings(app).sqlalchemy_database_uri.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM second_factors").fetchone() == (0,)
        assert connection.execute("SELECT count(*) FROM recovery_codes").fetchone() == (0,)


def test_in_chromium_an_administrator_sets_the_factor_up_and_signs_in_with_it(browser, sandbox):
    from playwright.sync_api import expect

    from tests.test_browser_password_reset import shot

    app = required_app(sandbox)
    server = ServerThread(app)
    context = browser.new_context(base_url=server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        page.goto("/auth/login")
        page.fill("#username", "ada")
        page.fill("#password", PASSWORD)
        page.click("#submit")
        expect(page.locator("h1")).to_have_text("Set up the second factor")
        qr = page.locator("#factor-qr-code")
        expect(qr).to_be_visible()
        assert qr.evaluate("image => image.complete && image.naturalWidth > 0")  # drawn under the real CSP
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
        shot(page, "second-factor-setup-390")
        secret = page.locator("#factor-secret").inner_text().replace(" ", "")
        used = pyotp.TOTP(secret).now()
        page.fill("#code", used)
        page.click("#submit")
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        shot(page, "second-factor-recovery-codes-390")
        codes = page.locator("#recovery-codes li").all_inner_texts()
        page.get_by_role("link", name="I have kept them: continue").click()
        expect(page.locator("h1")).not_to_have_text("Set up the second factor")
        page.locator("details.menu summary").click()  # on a phone the account's links are in the menu
        page.get_by_role("button", name="Sign out").click()
        page.fill("#username", "ada")
        page.fill("#password", PASSWORD)
        page.click("#submit")
        expect(page.locator("h1")).to_have_text("Sign in: second step")
        page.fill("#code", used)  # the code used a moment ago, once more
        page.click("#submit")
        expect(page.locator("#code-error")).to_contain_text("That code is wrong or was used already.")
        shot(page, "second-factor-sign-in-390")
        page.fill("#code", codes[0])  # a recovery code instead
        page.click("#submit")
        page.locator("details.menu summary").click()
        expect(page.locator(".account")).to_contain_text("ada")
    finally:
        context.close()
        server.stop()
