"""Issue 12, case 6: accounts can be disabled, re-enabled and removed, their role changed, unlocked and
given a new password, from the admin Users page; every change ends the person's sessions, and no change
can leave the portal without an enabled administrator."""
from __future__ import annotations

import pytest

from facesite.extensions import db
from facesite.models import User
from tests.support import EnrolPage, make_app, sign_in
from tests.support.account_pages import (act, admin, csrf, lock_out, make_admin, password_sign_in, replay,  # noqa: F401
                                         saved_cookie, security_rows, signed_out, table_rows, user_id)


def test_disabling_ends_every_session_and_refuses_sign_in_until_enabled_again(app, admin):
    otto = sign_in(app.test_client(), "operator")
    cookie = saved_cookie(app, otto)
    assert replay(app, cookie, "/enrol/").status_code == 200

    page = act(admin, user_id(app, "otto"), "disable")
    assert "otto is disabled" in page

    for path in ("/", "/enrol/", "/search/", "/register/"):
        assert signed_out(otto.get(path)), path
        assert signed_out(replay(app, cookie, path)), path
    wrong = password_sign_in(app.test_client(), "otto", "not the password")
    refused = password_sign_in(app.test_client(), "otto")
    assert refused.status_code == wrong.status_code == 401
    assert "Wrong username or password." in refused.get_data(as_text=True)
    assert refused.get_data(as_text=True).count("otto is disabled") == 0

    assert "otto is enabled" in act(admin, user_id(app, "otto"), "enable")
    assert password_sign_in(app.test_client(), "otto").status_code == 303
    # The session that was open when the account was disabled stays ended.
    assert signed_out(replay(app, cookie, "/enrol/"))


def test_removing_an_account_asks_first_and_keeps_the_history_that_names_them(app, admin):
    otto = sign_in(app.test_client(), "operator")
    cookie, otto_id = saved_cookie(app, otto), user_id(app, "otto")

    confirm = admin.get(f"/admin/users/{otto_id}/remove")
    assert confirm.status_code == 200 and "Remove otto?" in confirm.get_data(as_text=True)
    assert admin.head(f"/admin/users/{otto_id}/remove").status_code == 200
    assert user_id(app, "otto") == otto_id  # asking is not removing

    page = act(admin, otto_id, "remove")
    assert "otto is removed" in page
    assert user_id(app, "otto") is None
    assert not any(row and row[0].startswith("otto") for row in table_rows(page, "users-table"))
    assert signed_out(replay(app, cookie, "/search/"))
    assert password_sign_in(app.test_client(), "otto").status_code == 401

    history = security_rows(admin, subject="otto")
    assert {"sign_in", "user_removed"} <= {row["event"] for row in history}
    assert any(row["event"] == "sign_in" and row["actor"] == "otto" for row in history)
    assert admin.get(f"/admin/users/{otto_id}").status_code == 404


def test_a_new_role_ends_the_users_sessions_and_takes_effect(app, admin):
    otto = sign_in(app.test_client(), "operator")
    assert otto.get("/enrol/").status_code == 200

    assert "otto is now viewer" in act(admin, user_id(app, "otto"), "role", role="viewer")

    assert signed_out(otto.get("/search/"))
    sign_in(otto, "operator")  # STAFF["operator"] is otto, whatever his role now
    assert otto.get("/enrol/").status_code == 403
    assert otto.get("/search/").status_code == 200
    [change] = security_rows(admin, event="role_changed", subject="otto")
    assert change["actor"] == "ada" and "operator → viewer" in change["detail"]


def test_an_administrator_cannot_disable_remove_or_demote_themself(app, admin):
    make_admin(app, admin)  # so that ada is not the last administrator either
    ada = user_id(app, "ada")

    assert "You cannot disable your own account." in act(admin, ada, "disable")
    assert "You cannot remove your own account." in act(admin, ada, "remove")
    assert "You cannot take the administrator role away from yourself." in act(admin, ada, "role", role="operator")

    with app.app_context():
        me = db.session.get(User, ada)
        assert me.role == "admin" and me.disabled_at is None
    assert admin.get("/admin/users").status_code == 200  # still signed in, still an administrator


def test_the_last_enabled_administrator_stays(app, admin):
    ada = user_id(app, "ada")
    assert "ada is the last enabled administrator" in act(admin, ada, "disable")
    assert "ada is the last enabled administrator" in act(admin, ada, "role", role="viewer")

    bea = make_admin(app, admin)
    assert "bea is disabled" in act(admin, bea, "disable")
    # A disabled administrator does not count: ada is still the only one who can act.
    assert "ada is the last enabled administrator" in act(admin, ada, "remove")
    assert user_id(app, "ada") == ada
    assert "bea is removed" in act(admin, bea, "remove")


LIFECYCLE = [("post", "disable"), ("post", "enable"), ("post", "role"), ("post", "unlock"), ("post", "password"),
             ("post", "remove"), ("get", "remove"), ("get", "")]


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_viewers_and_operators_cannot_reach_the_account_actions(app, role):
    staff = sign_in(app.test_client(), role)
    token = csrf(staff, "/auth/password")
    target = user_id(app, "ada")
    for method, action in LIFECYCLE:
        url = f"/admin/users/{target}/{action}".rstrip("/")
        answer = getattr(staff, method)(url, data={"csrf_token": token, "role": "viewer", "password": "x" * 12,
                                                   "confirm": "x" * 12})
        assert answer.status_code == 403, (method, url)
    assert staff.get("/admin/security").status_code == 403
    with app.app_context():
        ada = db.session.get(User, target)
        assert ada.role == "admin" and ada.disabled_at is None


def test_unlocking_lets_a_locked_out_user_sign_in_again(app, admin):
    lock_out(app, "vera")
    assert password_sign_in(app.test_client(), "vera").status_code != 303
    assert "locked out" in admin.get("/admin/users").get_data(as_text=True)

    assert "vera can sign in again" in act(admin, user_id(app, "vera"), "unlock")
    assert password_sign_in(app.test_client(), "vera").status_code == 303


def test_an_administrator_sets_a_new_password_and_the_old_one_stops_working(app, admin):
    vera = sign_in(app.test_client(), "viewer")
    vera_id = user_id(app, "vera")
    page = admin.get(f"/admin/users/{vera_id}").get_data(as_text=True)
    short = admin.post(f"/admin/users/{vera_id}/password", data={
        "csrf_token": EnrolPage.hidden(page, "csrf_token"), "password": "short", "confirm": "short"})
    assert short.status_code == 422 and "At least 10 characters." in short.get_data(as_text=True)

    new = "a brand new passphrase"
    set_ = admin.post(f"/admin/users/{vera_id}/password", data={
        "csrf_token": EnrolPage.hidden(page, "csrf_token"), "password": new, "confirm": new}, follow_redirects=True)
    assert "New password set for vera" in set_.get_data(as_text=True)
    assert new not in set_.get_data(as_text=True)
    assert signed_out(vera.get("/search/"))
    assert password_sign_in(app.test_client(), "vera").status_code == 401
    assert password_sign_in(app.test_client(), "vera", new).status_code == 303


def test_the_lifecycle_on_postgresql(postgres_url, sandbox):
    """The same migration and the same guards on the scale-out database (row locks, cascading sessions)."""
    app = make_app(sandbox.url, {"DATABASE_URL": postgres_url})
    admin = sign_in(app.test_client(), "admin")
    otto = sign_in(app.test_client(), "operator")
    otto_id, ada = user_id(app, "otto"), user_id(app, "ada")

    assert "otto is disabled" in act(admin, otto_id, "disable")
    assert signed_out(otto.get("/search/"))
    assert "ada is the last enabled administrator" in act(admin, ada, "disable")
    assert "otto is removed" in act(admin, otto_id, "remove")
    assert user_id(app, "otto") is None
    assert [row["event"] for row in security_rows(admin, subject="otto")][:2] == ["user_removed", "user_disabled"]
