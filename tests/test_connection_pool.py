"""Many staff at once on a small connection pool (issue 14): a request thread never waits for a second
connection from the pool its own session holds one of. Before, every search held the session's
connection while it asked the same pool for another (to keep its picture, claim its submission id):
once every connection was held that way, each waited for the others until the pool timed out, and
PostgreSQL answered 500 to a rush of 256 staff."""
from __future__ import annotations

import io
import threading

import pytest
import requests

from tests.support import EnrolPage, face, make_app
from tests.support.servers import ServerThread

POOL = {"pool_pre_ping": True, "pool_size": 2, "max_overflow": 0, "pool_timeout": 5}
AT_ONCE = 8


def signed_in_session(url: str) -> requests.Session:
    from tests.support import PASSWORD, STAFF
    browser = requests.Session()
    page = browser.get(f"{url}/auth/login").text
    token = EnrolPage.hidden(page, "csrf_token")
    answer = browser.post(f"{url}/auth/login", data={"csrf_token": token, "username": STAFF["operator"],
                                                      "password": PASSWORD}, allow_redirects=False)
    assert answer.status_code == 303
    return browser


def search(url: str, browser: requests.Session, face_set: str) -> int:
    page = browser.get(f"{url}/search/").text
    fields = {name: EnrolPage.hidden(page, name) for name in ("csrf_token", "submissionId")}
    answer = browser.post(f"{url}/search/", data={**fields, "faceSetId": face_set}, allow_redirects=False,
                          files={"faceImage": ("face.jpg", io.BytesIO(face("obama.jpg")), "image/jpeg")}, timeout=60)
    return answer.status_code


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_staff_searching_at_once_on_a_two_connection_pool_all_get_their_results(sandbox, face_set, database,
                                                                                request):
    env = {"DATABASE_URL": request.getfixturevalue("postgres_url")} if database == "postgresql" else None
    portal = ServerThread(make_app(sandbox.url, env, SQLALCHEMY_ENGINE_OPTIONS=POOL))
    try:
        browsers = [signed_in_session(portal.url) for _ in range(AT_ONCE)]
        answers, start = [], threading.Barrier(AT_ONCE)

        def one(browser):
            start.wait()
            answers.append(search(portal.url, browser, face_set))

        threads = [threading.Thread(target=one, args=(b,)) for b in browsers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert answers == [303] * AT_ONCE
    finally:
        portal.stop()
