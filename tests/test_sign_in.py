"""Sign-in resists guessing and cannot be raced, dodged or used to list accounts (issue 12 case 2)."""
import re

from facesite.access import accounts
from tests.support import PASSWORD, EnrolPage, make_app, sign_in, sign_out
from tests.support.account_pages import sent_at_once


def attempt(client, username, password, **headers):
    page = client.get("/auth/login").get_data(as_text=True)
    return client.post("/auth/login", headers=headers, data={
        "csrf_token": EnrolPage.hidden(page, "csrf_token"), "username": username, "password": password})


def test_a_made_up_forwarded_for_does_not_dodge_the_per_address_limit(sandbox):
    app = make_app(sandbox.url, RATE_LIMIT_LOGIN="10 per minute")
    client = app.test_client()
    statuses = [attempt(client, f"someone{i}", "wrong", **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                for i in range(12)]
    assert statuses[-1] == 429, statuses
    assert statuses.count(429) == 2


def sign_ins_at_once(app, password: str, count: int) -> list:
    """``count`` browsers signing in to ``ada`` at the same moment, over HTTP."""
    return sent_at_once(app, "/auth/login", [{"username": "ada", "password": password}] * count, follow_redirects=True)


def test_parallel_wrong_passwords_are_counted_before_they_are_checked(sandbox):
    results = sign_ins_at_once(make_app(sandbox.url, LOGIN_MAX_FAILURES=5), "guess", 16)
    wrong = [r for r in results if "Wrong username or password" in r.text]
    locked = [r for r in results if r.status_code == 429]
    assert len(results) == 16 and len(wrong) == 5 and len(locked) == 11


def test_staff_signing_in_to_one_account_at_once_are_all_let_in_on_postgresql(postgres_url, sandbox):
    """Found by the issue 14 benchmark: each successful sign-in clears the account's count while the others
    race to make it again; an attempt that lost those races was answered "locked" (429) although no password
    had been wrong and the limit was far away. (Attempts are counted before their password is checked, so
    more sign-ins at once than LOGIN_MAX_FAILURES are refused by design: the limit here is out of reach.)"""
    app = make_app(sandbox.url, {"DATABASE_URL": postgres_url}, LOGIN_MAX_FAILURES=1000)
    results = sign_ins_at_once(app, PASSWORD, 24)
    assert len(results) == 24
    assert [r.status_code for r in results if r.status_code != 200 or "Sign in" in r.text] == []


def test_unknown_and_real_names_get_the_same_work_and_words(app, monkeypatch):
    checked = []
    original = accounts.check_password_hash
    monkeypatch.setattr(accounts, "check_password_hash", lambda *a: checked.append(1) or original(*a))
    client = app.test_client()
    answers = {}
    for name in ("ada", "no.such.person"):
        texts = [attempt(client, name, "wrong").get_data(as_text=True) for _ in range(6)]
        answers[name] = tuple(re.sub(r'name="csrf_token"[^>]*>', "", text.replace(name, "NAME"))
                              for text in (texts[0], texts[-1]))
    assert answers["ada"] == answers["no.such.person"]
    assert "Too many failed sign-ins" in answers["ada"][1]  # made-up names are "locked" too
    assert len(checked) == 10  # five checks of a password hash for each name, none once locked


def test_an_attacker_cannot_keep_the_real_admin_out(app):
    admin_browser = app.test_client()
    assert attempt(admin_browser, "ada", PASSWORD).status_code == 303  # her own browser, known since
    sign_out(admin_browser)
    attacker = app.test_client()
    for _ in range(8):
        attempt(attacker, "ada", "guess")
    assert attempt(attacker, "ada", PASSWORD).status_code == 429  # even the right password, from there
    assert attempt(admin_browser, "ada", PASSWORD).status_code == 303  # from her browser: in


def test_a_known_browser_is_itself_limited(app):
    browser = app.test_client()
    assert attempt(browser, "vera", PASSWORD).status_code == 303
    browser.delete_cookie("session")
    for _ in range(5):
        assert attempt(browser, "vera", "guess").status_code == 401
    assert attempt(browser, "vera", PASSWORD).status_code == 429


def test_the_password_page_is_no_way_round_the_sign_in_limit(app):
    viewer = sign_in(app.test_client(), "viewer")

    def change(current):
        page = viewer.get("/auth/password").get_data(as_text=True)
        return viewer.post("/auth/password", data={"csrf_token": EnrolPage.hidden(page, "csrf_token"),
                                                   "current": current, "password": "another long passphrase",
                                                   "confirm": "another long passphrase"})

    for _ in range(5):
        assert "not your current password" in change("guess").get_data(as_text=True)
    held = change(PASSWORD)
    assert held.status_code == 200 and "Too many wrong current passwords" in held.get_data(as_text=True)


def test_an_administrator_sets_their_own_password_only_on_the_password_page(app):
    from facesite.extensions import db
    from facesite.models import User

    admin = sign_in(app.test_client(), "admin")
    with app.app_context():
        own_id = db.session.scalar(db.select(User.id).filter_by(username="ada"))
    page = admin.get(f"/admin/users/{own_id}").get_data(as_text=True)
    answer = admin.post(f"/admin/users/{own_id}/password", data={
        "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]*)"', page).group(1),
        "password": "taken over passphrase", "confirm": "taken over passphrase"})
    assert answer.status_code == 303 and answer.location.endswith("/auth/password")
    assert attempt(app.test_client(), "ada", PASSWORD).status_code == 303  # unchanged


def warnings(answer) -> list[str]:
    return re.findall(r'<p class="flash warning">([^<]*)</p>', answer.get_data(as_text=True))


def test_each_wrong_password_says_how_many_tries_are_left_in_the_same_words_for_any_name(app):
    """Issue 18, item 7. The count is the throttle's, kept for any name typed, so the warning is no way to
    tell real names from made-up ones (the test above compares whole pages)."""
    said = {}
    for name in ("otto", "made.up.name"):
        client = app.test_client()
        said[name] = [warnings(attempt(client, name, "a wrong guess")) for _ in range(5)]
        held = attempt(client, name, PASSWORD)
        assert held.status_code == 429 and warnings(held) == []
        assert "try again in about 15 minutes, or from a browser" in held.get_data(as_text=True)
    assert said["otto"] == said["made.up.name"] == [
        ["4 tries left before this username is locked for 15 minutes."],
        ["3 tries left before this username is locked for 15 minutes."],
        ["2 tries left before this username is locked for 15 minutes."],
        ["1 try left before this username is locked for 15 minutes."],
        ["No tries left: this username is locked for 15 minutes."]]


def test_the_lock_starts_with_the_failure_that_used_the_last_try(sandbox):
    from facesite.access import throttle

    app = make_app(sandbox.url, LOGIN_MAX_FAILURES=2, LOGIN_LOCK_MINUTES=1)
    client = app.test_client()
    assert warnings(attempt(client, "vera", "guess")) == ["1 try left before this username is locked for 1 minute."]
    assert warnings(attempt(client, "vera", "guess")) == ["No tries left: this username is locked for 1 minute."]
    with app.app_context():
        assert throttle.locked_names(["vera"]) == {"vera"}  # held now, not only from the next attempt
    assert attempt(client, "vera", PASSWORD).status_code == 429
    [indonesian] = warnings(attempt(app.test_client(), "someone.else", "guess", **{"Accept-Language": "id"}))
    assert "1" in indonesian and "try left" not in indonesian and "minute" not in indonesian
