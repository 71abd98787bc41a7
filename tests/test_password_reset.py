"""Issue 18, item 7: an administrator (or the command line) hands someone a one-time link to choose a new
password. The link is shown once, works once and for a limited time, a newer one replaces it, and each
dead end says which one it is. Neither the security log nor the request log ever holds its secret part."""
from __future__ import annotations

import logging
import re
from datetime import timedelta

import requests

from facesite.config import Settings
from facesite.extensions import db
from facesite.models import OneTimeLink, SecurityEvent, User, utcnow
from tests.support import EnrolPage, make_app, sign_in
from tests.support.account_pages import (act, admin, csrf, lock_out, password_sign_in, replay,  # noqa: F401
                                         saved_cookie, security_rows, sent_at_once, signed_out, user_id)
from tests.support.servers import ServerThread

NEW_PASSWORD = "a fresh passphrase of mine"
LINK = re.compile(r"(?:https?://[^/\s\"]+)?(/auth/reset/[A-Za-z0-9_-]+)")


def make_link(admin, app, username: str = "otto") -> tuple[str, str]:
    """Press "Make a reset link" on the person's page: the answer's HTML and the link's path."""
    answer = admin.post(f"/admin/users/{user_id(app, username)}/reset-link",
                        data={"csrf_token": csrf(admin, f"/admin/users/{user_id(app, username)}")})
    assert answer.status_code == 200, answer.status_code
    html = answer.get_data(as_text=True)
    return html, LINK.search(html).group(1)


def choose(client, path: str, password: str = NEW_PASSWORD, confirm: str | None = None):
    """Send the link's form (a dead link's page has none: the token comes from the sign-in page then)."""
    token = EnrolPage.hidden(client.get(path).get_data(as_text=True), "csrf_token") or csrf(client, "/auth/login")
    return client.post(path, data={"csrf_token": token, "password": password,
                                   "confirm": password if confirm is None else confirm})


def test_an_administrator_makes_a_link_the_person_sets_a_password_with_it_once(app, admin):
    otto = sign_in(app.test_client(), "operator")
    cookie = saved_cookie(app, otto)

    page, path = make_link(admin, app)
    assert "Pass this link on to otto. It is shown only now" in page
    assert "It works once, until" in page
    assert f'value="http://localhost{path}"' in page  # the address this request came to (no PUBLIC_URL)
    token = path.rsplit("/", 1)[1]
    assert token not in admin.get(f"/admin/users/{user_id(app, 'otto')}").get_data(as_text=True)  # once only
    assert otto.get("/enrol/").status_code == 200  # making a link signs no one out

    visitor = app.test_client()
    opened = visitor.get(path)
    assert opened.status_code == 200 and '<meta name="referrer" content="no-referrer">' in opened.get_data(as_text=True)
    assert "This link lets otto choose a new password." in re.sub(r"</?strong>", "", opened.get_data(as_text=True))
    short = choose(visitor, path, "too short")
    assert short.status_code == 422 and "At least 10 characters." in short.get_data(as_text=True)
    differ = choose(visitor, path, NEW_PASSWORD, "something else entirely")
    assert differ.status_code == 422 and "The passwords differ." in differ.get_data(as_text=True)

    done = choose(visitor, path)
    assert done.status_code == 303 and done.location.endswith("/auth/login")
    assert "Your new password is set, otto. Sign in with it." in visitor.get("/auth/login").get_data(as_text=True)
    assert signed_out(otto.get("/enrol/")) and signed_out(replay(app, cookie, "/enrol/"))
    assert password_sign_in(app.test_client(), "otto").status_code == 401
    assert password_sign_in(app.test_client(), "otto", NEW_PASSWORD).status_code == 303

    again = app.test_client().get(path)
    assert again.status_code == 410 and "It has been used already" in again.get_data(as_text=True)
    assert choose(app.test_client(), path, "yet another passphrase").status_code == 410
    assert password_sign_in(app.test_client(), "otto", "yet another passphrase").status_code == 401

    made, = security_rows(admin, event="reset_link_made")
    reset, = security_rows(admin, event="password_reset")
    assert (made["actor"], made["subject"]) == ("ada", "otto") and "works once until" in made["detail"]
    assert (reset["actor"], reset["subject"]) == ("otto", "otto") and "made by ada" in reset["detail"]
    assert "open sessions ended: 1" in reset["detail"]
    with app.app_context():
        stored = [str(value) for row in db.session.execute(db.select(OneTimeLink)).scalars()
                  for value in vars(row).values()]
        stored += [str(row) for row in db.session.execute(db.select(SecurityEvent.detail)).scalars()]
    assert not any(token in value for value in stored)  # only the hash is kept, and no event names it


def test_a_newer_link_replaces_the_older_one_an_expired_or_made_up_one_says_so(app, admin):
    _, first = make_link(admin, app)
    page, second = make_link(admin, app)
    assert first != second and "Make another reset link" in page
    replaced = app.test_client().get(first)
    assert replaced.status_code == 410 and "A newer link was made for this account" in replaced.get_data(as_text=True)
    assert choose(app.test_client(), first).status_code == 410
    assert app.test_client().get(second).status_code == 200

    with app.app_context():
        db.session.execute(db.update(OneTimeLink).filter_by(purpose="reset")
                           .values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    expired = app.test_client().get(second)
    assert expired.status_code == 410 and "It expired at" in expired.get_data(as_text=True)
    assert choose(app.test_client(), second).status_code == 410

    for made_up in ("/auth/reset/" + "A" * 43, "/auth/reset/" + "x" * 5000):
        unknown = app.test_client().get(made_up)
        assert unknown.status_code == 404 and "No such reset link was made" in unknown.get_data(as_text=True)
    assert password_sign_in(app.test_client(), "otto").status_code == 303  # nothing changed


def test_the_link_lifts_a_sign_in_hold_and_a_disabled_account_gets_none(app, admin):
    lock_out(app, "otto")
    _, path = make_link(admin, app)
    assert choose(app.test_client(), path).status_code == 303
    assert password_sign_in(app.test_client(), "otto", NEW_PASSWORD).status_code == 303

    _, path = make_link(admin, app, "vera")
    act(admin, user_id(app, "vera"), "disable")
    disabled = app.test_client().get(path)
    assert disabled.status_code == 410 and "is disabled" in disabled.get_data(as_text=True)
    assert "vera is disabled: enable the account before making a reset link." in act(admin, user_id(app, "vera"),
                                                                                     "reset-link")


def test_no_link_for_ones_own_account_or_one_without_a_password(app, admin):
    own = admin.post(f"/admin/users/{user_id(app, 'ada')}/reset-link", data={"csrf_token": csrf(admin)})
    assert own.status_code == 303 and own.location.endswith("/auth/password")
    with app.app_context():
        db.session.add(User(username="pat@example.com", role="viewer", source="header"))
        db.session.commit()
    page = act(admin, user_id(app, "pat@example.com"), "reset-link")
    assert "a reset link is only for accounts with a password" in page
    pat_page = admin.get(f"/admin/users/{user_id(app, 'pat@example.com')}").get_data(as_text=True)
    assert "Make a reset link" not in pat_page
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OneTimeLink).filter_by(purpose="reset")) == 0


def test_the_link_works_once_even_when_sent_twice_at_the_same_moment(app, admin):
    four_at_once(app, admin)


def test_the_link_works_once_on_postgresql_too(postgres_url, sandbox):
    app = make_app(sandbox.url, {"DATABASE_URL": postgres_url})
    four_at_once(app, sign_in(app.test_client(), "admin"))


def four_at_once(app, admin):
    """Four browsers send the link's form with four passwords at the same moment: one is set."""
    _, path = make_link(admin, app)
    passwords = [f"{NEW_PASSWORD} number {i}" for i in range(4)]
    answers = sent_at_once(app, path, [{"password": each, "confirm": each} for each in passwords])
    assert sorted(answer.status_code for answer in answers) == [303, 410, 410, 410]
    assert len(security_rows(admin, event="password_reset")) == 1
    assert [password_sign_in(app.test_client(), "otto", each).status_code for each in passwords].count(303) == 1


def test_reset_password_command_prints_the_link(app, sandbox, admin):
    result = app.test_cli_runner().invoke(args=["reset-password", " Otto "])
    assert result.exit_code == 0, result.output
    assert "One-time link for otto, works once until" in result.output
    path = LINK.search(result.output).group(1)
    assert re.search(r"^/auth/reset/", result.output, re.MULTILINE)  # no PUBLIC_URL: the path alone
    assert choose(app.test_client(), path).status_code == 303
    made, = security_rows(admin, event="reset_link_made")
    assert made["actor"] == "command line" and made["subject"] == "otto"

    missing = app.test_cli_runner().invoke(args=["reset-password", "nobody"])
    assert missing.exit_code != 0 and "no account is named 'nobody'" in missing.output
    public = make_app(sandbox.url, {"PUBLIC_URL": "https://tools.example.com/faces/"})
    printed = public.test_cli_runner().invoke(args=["reset-password", "vera"]).output
    assert re.search(r"^https://tools\.example\.com/faces/auth/reset/[A-Za-z0-9_-]{43}$", printed, re.MULTILINE)


def test_no_link_while_password_sign_in_is_off(sandbox):
    app = make_app(sandbox.url, {"AUTH_MODE": "header", "AUTH_PROXY_SECRET": "a proxy secret of some length",
                                 "AUTH_DEFAULT_ROLE": "viewer"})
    refused = app.test_cli_runner().invoke(args=["reset-password", "otto"])
    assert refused.exit_code != 0 and "Password sign-in is off in this portal (AUTH_MODE=header" in refused.output
    with app.app_context():
        assert db.session.scalar(db.select(OneTimeLink).filter_by(purpose="reset")) is None


def test_the_link_time_is_a_bounded_setting():
    assert Settings.from_env({}).password_reset_link_hours == 24
    assert Settings.from_env({"PASSWORD_RESET_LINK_HOURS": "2"}).password_reset_link_hours == 2
    assert Settings.from_env({"PASSWORD_RESET_LINK_HOURS": "0"}).password_reset_link_hours == 1
    assert Settings.from_env({"PASSWORD_RESET_LINK_HOURS": "100000"}).password_reset_link_hours == 168


def test_the_link_lasts_as_long_as_the_setting_says(sandbox):
    app = make_app(sandbox.url, {"PASSWORD_RESET_LINK_HOURS": "2"})
    result = app.test_cli_runner().invoke(args=["reset-password", "otto"])
    assert result.exit_code == 0
    with app.app_context():
        link = db.session.scalar(db.select(OneTimeLink).filter_by(purpose="reset"))
        assert timedelta(hours=2) - (link.expires_at - link.created_at) < timedelta(seconds=1)


def test_request_lines_never_show_the_secret_part_of_a_link(app, admin, caplog):
    _, path = make_link(admin, app)
    token = path.rsplit("/", 1)[1]
    caplog.set_level(logging.INFO)
    server = ServerThread(app)  # Werkzeug's server, which writes a line per request
    try:
        assert requests.get(server.url + path, timeout=10).status_code == 200
    finally:
        server.stop()
    lines = [record.getMessage() for record in caplog.records]
    assert any("GET /auth/reset/[hidden] HTTP/1.1" in line for line in lines), lines
    assert not any(token in line for line in lines)


def test_gunicorns_access_log_hides_it_too(capsys):
    from types import SimpleNamespace

    from gunicorn.config import Config

    from facesite.log_format import gunicorn_logger_class

    config = Config()
    config.set("accesslog", "-")
    config.set("access_log_format", '"%(r)s" %(s)s')
    for log_format in ("text", "json"):
        logger = gunicorn_logger_class(log_format)(config)
        request = SimpleNamespace(method="GET", path="/faces/auth/reset/SeCrEt_token-1", query="", uri="",
                                  version=(1, 1), headers=[])
        answer = SimpleNamespace(status="200 OK", sent=10, headers=[], response_length=10)
        logger.access(answer, request, {"RAW_URI": request.path, "REQUEST_METHOD": "GET",
                                                   "SERVER_PROTOCOL": "HTTP/1.1"}, timedelta(seconds=0.1))
    written = capsys.readouterr()
    assert written.out.count("/faces/auth/reset/[hidden]") == 2, written
    assert "SeCrEt" not in written.out + written.err


def test_the_portals_own_lines_name_a_links_path_without_its_secret():
    from facesite.log_format import without_link_secrets

    line = "GET /x/auth/setup/abc-_1?next=/ HTTP/1.1"
    assert without_link_secrets(line) == "GET /x/auth/setup/[hidden]?next=/ HTTP/1.1"
    assert without_link_secrets("/auth/reset/abc") == "/auth/reset/[hidden]"
    for untouched in ("/auth/login?next=/auth/password", "/admin/users/3/reset-link", "/auth/reset/"):
        assert without_link_secrets(untouched) == untouched
    # The company sign-in's code and state (issue 24): an access line must not hand them to a log reader.
    callback = '127.0.0.1 "GET /faces/auth/oidc/callback?code=SpLx9&state=Qz7 HTTP/1.1" 302 0'
    assert without_link_secrets(callback) == '127.0.0.1 "GET /faces/auth/oidc/callback?[hidden] HTTP/1.1" 302 0'


def test_the_daily_purge_drops_reset_links_a_month_after_they_died(app, admin):
    from facesite.retention import purge

    make_link(admin, app)
    make_link(admin, app, "vera")
    with app.app_context():
        old, fresh = db.session.scalars(db.select(OneTimeLink).where(OneTimeLink.purpose == "reset")
                                        .order_by(OneTimeLink.id)).all()
        old.expires_at = utcnow() - timedelta(days=31)
        fresh_id = fresh.id
        db.session.commit()
        figures = purge()
        left = db.session.scalars(db.select(OneTimeLink.id).where(OneTimeLink.purpose == "reset")).all()
    assert figures["links"] == 1 and left == [fresh_id]
