"""Helpers for the account lifecycle and security log tests: acting on the admin Users page the way a
browser does, and reading the security log's table."""
from __future__ import annotations

import threading
from html.parser import HTMLParser

import pytest
import requests

from facesite.extensions import db
from facesite.models import User
from tests.support import PASSWORD, EnrolPage, sign_in
from tests.support.servers import ServerThread

CLIENT_ADDRESS = "127.0.0.1"  # what Flask's test client reports as the remote address


class _TableRows(HTMLParser):
    """The text of each cell, row by row, of the table with a given id."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.rows, self.cell = table_id, False, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == self.table_id:
            self.inside = True
        elif self.inside and tag == "tr":
            self.rows.append([])
        elif self.inside and tag == "td":
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self.inside = False
        elif self.inside and tag == "td" and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, table_id: str) -> list[list[str]]:
    reader = _TableRows(table_id)
    reader.feed(html)
    return [row for row in reader.rows if row]


def security_rows(admin, **filters) -> list[dict]:
    answer = admin.get("/admin/security", query_string=filters)
    assert answer.status_code == 200
    columns = ("at", "event", "actor", "subject", "address", "detail")
    return [dict(zip(columns, row)) for row in table_rows(answer.get_data(as_text=True), "security-table")
            if len(row) == len(columns)]


def user_id(app, username: str) -> int | None:
    with app.app_context():
        return db.session.scalar(db.select(User.id).filter_by(username=username))


def csrf(client, url: str = "/admin/users") -> str:
    return EnrolPage.hidden(client.get(url).get_data(as_text=True), "csrf_token")


def act(admin, user_id_: int, action: str, **form):
    """An administrator's POST from the Users page (a CSRF token and all); the page it lands on."""
    answer = admin.post(f"/admin/users/{user_id_}/{action}", data={"csrf_token": csrf(admin), **form},
                        follow_redirects=True)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def password_sign_in(client, username: str, password: str = PASSWORD):
    html = client.get("/auth/login").get_data(as_text=True)
    return client.post("/auth/login", data={"csrf_token": EnrolPage.hidden(html, "csrf_token"),
                                            "username": username, "password": password})


def saved_cookie(app, client) -> str:
    return client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def replay(app, cookie: str, path: str):
    """A new browser carrying a copy of a session cookie saved earlier."""
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    return other.get(path)


def signed_out(answer) -> bool:
    return answer.status_code in (302, 303) and "/auth/login" in answer.headers["Location"]


@pytest.fixture
def admin(app):
    return sign_in(app.test_client(), "admin")


def make_admin(app, admin, username: str = "bea") -> int:
    """A second administrator, created through the Users page."""
    admin.post("/admin/users", data={"csrf_token": csrf(admin), "username": username, "password": PASSWORD,
                                     "confirm": PASSWORD, "role": "admin"})
    return user_id(app, username)


def lock_out(app, username: str) -> None:
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1):
        password_sign_in(app.test_client(), username, "a wrong guess")


def sent_at_once(app, path: str, forms: list[dict], follow_redirects: bool = False) -> list:
    """Each form sent to ``path`` by its own browser over HTTP, all at the same moment (each first opens the
    page for its CSRF token); the answers."""
    server = ServerThread(app)
    try:
        def send(form, answers):
            browser = requests.Session()
            page = browser.get(server.url + path, timeout=10).text
            answers.append(browser.post(server.url + path, timeout=60, allow_redirects=follow_redirects,
                                        data={"csrf_token": EnrolPage.hidden(page, "csrf_token"), **form}))

        answers: list = []
        threads = [threading.Thread(target=send, args=(form, answers)) for form in forms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        server.stop()
    return answers
