"""The first administrator comes from a one-time setup link, which makes one administrator however many
requests bring it at the same moment (issue 24, item 8)."""
import threading

import pytest
import requests

from facesite.extensions import db
from facesite.models import User
from tests.support import EnrolPage, portal_without_accounts
from tests.support.servers import ServerThread


@pytest.fixture
def fresh_portal(sandbox, caplog):
    """A portal with no account yet, served over HTTP, and the path of the setup link it printed."""
    app, path = portal_without_accounts(sandbox.url, caplog)
    server = ServerThread(app)
    yield app, server.url + path
    server.stop()


def test_two_people_sending_the_setup_form_at_once_make_one_administrator(fresh_portal):
    app, address = fresh_portal
    people = []
    for name in ("first", "second"):
        browser = requests.Session()
        html = browser.get(address, timeout=10).text
        people.append((browser, {"csrf_token": EnrolPage.hidden(html, "csrf_token"), "username": name,
                                 "password": "correct horse battery", "confirm": "correct horse battery"}))
    start, answers = threading.Barrier(len(people)), {}

    def send(browser, form):
        start.wait()
        answers[form["username"]] = browser.post(address, data=form, allow_redirects=False, timeout=30).status_code

    threads = [threading.Thread(target=send, args=person) for person in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers.values()) == [303, 404], answers  # one welcomed, the other told the link is gone
    with app.app_context():
        assert db.session.scalars(db.select(User.username)).all() in (["first"], ["second"])
    assert requests.get(address, timeout=10).status_code == 404


def test_a_refused_name_leaves_the_setup_link_usable(fresh_portal):
    app, address = fresh_portal
    browser = requests.Session()
    html = browser.get(address, timeout=10).text
    form = {"csrf_token": EnrolPage.hidden(html, "csrf_token"), "username": "not a name!",
            "password": "correct horse battery", "confirm": "correct horse battery"}
    assert browser.post(address, data=form, allow_redirects=False, timeout=10).status_code == 200
    created = browser.post(address, data={**form, "username": "boss"}, allow_redirects=False, timeout=10)
    assert created.status_code == 303
    with app.app_context():
        assert db.session.scalars(db.select(User.username)).all() == ["boss"]
