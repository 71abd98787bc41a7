"""Odd requests get clear answers, never a server error or a forged log line (issue 11 case 4)."""
import logging
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from facesite.app import one_line_messages
from tests.support import PASSWORD, EnrolPage, sign_in
from tests.support.servers import ServerThread


@pytest.mark.parametrize("host", ["a..b", ".", "x" * 64 + ".example", "-" * 300])
def test_a_host_header_that_names_no_site_is_a_400(app, host):
    admin = sign_in(app.test_client(), "admin")
    for client in (admin, app.test_client()):
        for path in ("/healthz", "/auth/login", "/register/", "/no-such-page"):
            assert client.get(path, headers={"Host": host}).status_code == 400, (host, path)


@pytest.mark.parametrize("path", ["/register/9223372036854775808", "/register/" + "9" * 25,
                                  "/register/99999999999/thumbnail.jpg", "/batch/99999999999",
                                  "/batch/99999999999/progress", "/batch/99999999999/results.csv",
                                  "/admin/users/9999999999999", "/batch/?page=99999999999999999999999",
                                  "/register/?page=-5", "/admin/audit?page=1e9"])
def test_numbers_too_large_for_the_database_are_a_404_or_the_first_page(app, path):
    admin = sign_in(app.test_client(), "admin")
    assert admin.get(path).status_code in (200, 404), path
    assert admin.post(path.split("?")[0] + "/disable").status_code in (400, 404, 405)


def test_a_line_break_in_a_path_cannot_forge_a_log_line(app):
    lines = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(logging.Formatter("%(levelname)s %(message)s").format(record))
    handler.addFilter(one_line_messages)
    logging.getLogger().addHandler(handler)
    try:
        viewer = sign_in(app.test_client(), "viewer")
        assert viewer.get("/admin/face-sets/x%0a2026-11-27 06:00:00 INFO facesite.web.auth: FORGED\u2028y").status_code \
            in (403, 404)
    finally:
        logging.getLogger().removeHandler(handler)
    assert lines and not any("\n" in line or "\u2028" in line for line in lines)
    assert any("FORGED" in line for line in lines)  # still logged, on one line


def test_creating_the_same_user_at_once_is_refused_cleanly(app):
    server = ServerThread(app)
    try:
        browser = requests.Session()
        page = browser.get(server.url + "/auth/login", timeout=10).text
        browser.post(server.url + "/auth/login", timeout=30, data={
            "csrf_token": EnrolPage.hidden(page, "csrf_token"), "username": "ada", "password": PASSWORD})
        form = browser.get(server.url + "/admin/users", timeout=10).text
        token = EnrolPage.hidden(form, "csrf_token")

        def create(_):
            return browser.post(server.url + "/admin/users", timeout=60, data={
                "csrf_token": token, "username": "race1", "password": "a long passphrase",
                "confirm": "a long passphrase", "role": "viewer"}).status_code

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(create, range(8)))
    finally:
        server.stop()
    assert len(answers) == 8 and all(status < 500 for status in answers), answers


def test_a_removed_name_is_not_given_out_again(app):
    from facesite.access.accounts import AccountError, create_user
    from facesite.extensions import db
    from facesite.models import User

    operator = sign_in(app.test_client(), "operator")
    EnrolPage(operator).open()
    with app.app_context():
        otto = db.session.scalar(db.select(User).filter_by(username="otto"))
        db.session.delete(otto)
        db.session.commit()
        from facesite import security_events

        security_events.record("user_removed", actor="ada", subject="otto")
        with pytest.raises(AccountError, match="removed"):
            create_user("OTTO", "a long passphrase", "viewer")


@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01&until=0001-01-01", "since=9999-12-31"])
def test_dates_at_the_ends_of_the_calendar_filter_without_an_error(app, query):
    admin = sign_in(app.test_client(), "admin")
    for path in ("/register/", "/admin/audit", "/admin/audit.csv", "/admin/security"):
        answer = admin.get(f"{path}?{query}")
        assert answer.status_code == 200, path
        answer.get_data()  # a streamed CSV fails, if at all, while it is read
        answer.close()


@pytest.mark.parametrize("data", [None, [1, 2], "é" * 5000, "", {"id": 1}, True])
def test_a_success_without_a_face_id_is_no_success(fake_app, fake_vendor, data):
    """The vendor says SUCCESS but sends no usable face id: staff are told the answer could not be read and
    that the face may have been added (search before sending again); nothing goes into the register."""
    from facesite.extensions import db
    from facesite.models import Enrolment
    from tests.support import face
    from tests.support.servers import envelope

    fake_vendor.add_face.append(envelope(data=data))
    answer = EnrolPage(sign_in(fake_app.test_client(), "operator")).send(face("obama.jpg"), faceSetId="1",
                                                                         name="Kept Name")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 502 and "could not be read" in text and "Kept Name" in text
    with fake_app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Enrolment)) == 0
