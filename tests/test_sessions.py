"""Sessions live on the server: signing out, a new password or the limits end them for every copy of
the cookie (security review, issue 12 case 1)."""
from datetime import timedelta

from sqlalchemy import update

from facesite.extensions import db
from facesite.models import User, UserSession, utcnow
from tests.support import EnrolPage, make_app, sign_in, sign_out


def saved_cookie(client) -> str:
    return client.get_cookie("session").value


def replay(app, cookie: str, path="/admin/users"):
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get(path)


def test_a_cookie_saved_before_sign_out_opens_nothing_after_it(app):
    admin = sign_in(app.test_client(), "admin")
    cookie = saved_cookie(admin)
    assert replay(app, cookie).status_code == 200
    assert sign_out(admin).status_code == 303
    answer = replay(app, cookie)
    assert answer.status_code == 302 and "/auth/login" in answer.location


def test_changing_the_password_signs_out_every_other_session(app):
    laptop, phone = sign_in(app.test_client(), "operator"), sign_in(app.test_client(), "operator")
    page = laptop.get("/auth/password").get_data(as_text=True)
    changed = laptop.post("/auth/password", data={"csrf_token": EnrolPage.hidden(page, "csrf_token"),
                                                  "current": "correct horse battery",
                                                  "password": "a brand new passphrase",
                                                  "confirm": "a brand new passphrase"})
    assert changed.status_code == 303
    assert phone.get("/enrol/").status_code == 302  # the other device is signed out
    assert laptop.get("/enrol/").status_code == 200  # the one that changed it stays in


def _age(app, **ago):
    with app.app_context():
        user_id = db.session.scalar(db.select(User.id).filter_by(username="otto"))
        values = {column: utcnow() - delta for column, delta in ago.items()}
        db.session.execute(update(UserSession).where(UserSession.user_id == user_id).values(**values))
        db.session.commit()


def test_a_session_ends_after_the_idle_limit(sandbox):
    app = make_app(sandbox.url, SESSION_IDLE_MINUTES=30)
    client = sign_in(app.test_client(), "operator")
    _age(app, last_seen_at=timedelta(minutes=31))
    answer = client.get("/enrol/", follow_redirects=True)
    assert "/auth/login" in answer.request.path
    assert "signed out without activity" in answer.get_data(as_text=True)


def test_a_busy_session_still_ends_at_the_absolute_limit(sandbox):
    app = make_app(sandbox.url, SESSION_MAX_HOURS=8)
    client = sign_in(app.test_client(), "operator")
    _age(app, created_at=timedelta(hours=8, minutes=1))  # used a second ago, but signed in 8 h ago
    answer = client.get("/enrol/", follow_redirects=True)
    assert "/auth/login" in answer.request.path
    assert "longest allowed time" in answer.get_data(as_text=True)


def test_the_cookie_is_not_reissued_on_every_request(app):
    client = sign_in(app.test_client(), "operator")
    client.get("/register/")  # the first page after sign-in stores the form token in the session
    answer = client.get("/register/")
    assert answer.status_code == 200
    assert not any(h.startswith("session=") for h in answer.headers.getlist("Set-Cookie"))


def test_staff_see_where_they_are_signed_in_and_end_the_other_sessions(app):
    """Issue 24, finding 17 (ASVS 3.3.4): one's own sessions, listed, and the others ended with one button."""
    desk, phone = sign_in(app.test_client(), "viewer"), sign_in(app.test_client(), "viewer")
    someone_else = sign_in(app.test_client(), "operator")
    page = desk.get("/auth/sessions").get_data(as_text=True)
    assert page.count("<tr") == 3 and page.count("(this browser)") == 1  # a heading row and vera's two sessions
    answer = desk.post("/auth/sessions/end-others", data={"csrf_token": EnrolPage.hidden(page, "csrf_token")})
    assert answer.status_code == 303
    assert "1 other session ended." in desk.get(answer.location).get_data(as_text=True)
    assert phone.get("/register/").status_code == 302  # the other browser is signed out
    assert desk.get("/register/").status_code == 200 and someone_else.get("/register/").status_code == 200
    assert desk.get("/auth/sessions").get_data(as_text=True).count("<tr") == 2
