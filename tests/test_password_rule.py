"""Issue 24, item 4 (ASVS 2.1.7): a new password that is common, leaked, a run of keys or contains the
account's name is refused on every page and command that sets one, with words saying why and the form kept."""
from __future__ import annotations

import html as html_lib

import pytest

from facesite.access.accounts import AccountError, create_user
from facesite.extensions import db
from facesite.models import User
from tests.support import PASSWORD, EnrolPage, sign_in
from tests.support.account_pages import admin, csrf, password_sign_in, user_id  # noqa: F401
from tests.test_password_reset import choose, make_link

WEAK = ["1234567890", "aaaaaaaaaa", "password12"]
TOO_EASY = "This password is too easy to guess"
HAS_NAME = "The password may not contain the username."


def text(answer) -> str:
    return html_lib.unescape(answer.get_data(as_text=True))


@pytest.mark.parametrize("weak", WEAK)
def test_the_admin_users_page_refuses_a_weak_password_and_keeps_the_form(app, admin, weak):  # noqa: F811
    answer = admin.post("/admin/users", data={"csrf_token": csrf(admin), "username": "newcomer", "password": weak,
                                              "confirm": weak, "role": "viewer"})
    assert answer.status_code == 422 and TOO_EASY in text(answer)
    assert 'value="newcomer"' in text(answer)  # the form comes back as typed
    assert user_id(app, "newcomer") is None


def test_a_password_with_the_username_in_it_is_refused(app, admin):  # noqa: F811
    password = "Newcomer-correct horse"
    answer = admin.post("/admin/users", data={"csrf_token": csrf(admin), "username": "newcomer",
                                              "password": password, "confirm": password, "role": "viewer"})
    assert answer.status_code == 422 and HAS_NAME in text(answer)
    page = f"/admin/users/{user_id(app, 'otto')}"
    password = "otto's own horse battery"
    answer = admin.post(page + "/password", data={"csrf_token": csrf(admin, page), "password": password,
                                                  "confirm": password})
    assert answer.status_code == 422 and HAS_NAME in text(answer)


def test_an_administrator_setting_a_weak_password_is_refused(app, admin):  # noqa: F811
    page = f"/admin/users/{user_id(app, 'otto')}"
    answer = admin.post(page + "/password", data={"csrf_token": csrf(admin, page), "password": "password12",
                                                  "confirm": "password12"})
    assert answer.status_code == 422 and TOO_EASY in text(answer)
    assert password_sign_in(app.test_client(), "otto", "password12").status_code == 401
    assert password_sign_in(app.test_client(), "otto").status_code == 303  # the old one still works


def test_ones_own_new_password_must_be_strong(app):
    vera = sign_in(app.test_client(), "viewer")
    page = vera.get("/auth/password").get_data(as_text=True)
    answer = vera.post("/auth/password", data={"csrf_token": EnrolPage.hidden(page, "csrf_token"), "current": PASSWORD,
                                               "password": "aaaaaaaaaa", "confirm": "aaaaaaaaaa"})
    assert TOO_EASY in text(answer)
    assert password_sign_in(app.test_client(), "vera").status_code == 303


def test_a_reset_link_refuses_a_weak_password_and_still_works(app, admin):  # noqa: F811
    _page, path = make_link(admin, app)
    visitor = app.test_client()
    weak = choose(visitor, path, "1234567890")
    assert weak.status_code == 422 and TOO_EASY in text(weak)
    assert choose(visitor, path, "a fresh passphrase of mine").status_code == 303  # the link is not spent


def test_the_message_is_in_the_reader_s_language(app, admin):  # noqa: F811
    answer = admin.post("/admin/users", headers={"Accept-Language": "es-MX"},
                        data={"csrf_token": csrf(admin), "username": "newcomer", "password": "password12",
                              "confirm": "password12", "role": "viewer"})
    assert "Esta contraseña es demasiado fácil de adivinar" in text(answer)


def test_the_setup_page_refuses_a_weak_password(sandbox, caplog):
    from tests.support import portal_without_accounts

    portal, path = portal_without_accounts(sandbox.url, caplog)
    client = portal.test_client()
    token = EnrolPage.hidden(client.get(path).get_data(as_text=True), "csrf_token")
    answer = client.post(path, data={"csrf_token": token, "username": "boss", "password": "1234567890",
                                     "confirm": "1234567890"})
    assert answer.status_code == 200 and TOO_EASY in text(answer)
    with portal.app_context():
        assert db.session.scalar(db.select(User.id)) is None
    assert client.get(path).status_code == 200  # the link still works


@pytest.mark.parametrize("weak", WEAK + ["carla-correct-horse"])
def test_create_user_command_refuses_a_weak_password(app, weak, monkeypatch):
    monkeypatch.setenv("FACESITE_PASSWORD", weak)
    result = app.test_cli_runner().invoke(args=["create-user", "carla", "--role", "viewer"])
    assert result.exit_code != 0 and "password refused" in result.output, result.output
    assert user_id(app, "carla") is None


def test_no_code_path_sets_a_weak_password(app):
    with app.app_context():
        with pytest.raises(AccountError, match=TOO_EASY):
            create_user("newcomer", "password12", "viewer")
        assert db.session.scalar(db.select(User).filter_by(username="newcomer")) is None
        assert not hasattr(User, "set_password")  # the one place is facesite/access/passwords.py
