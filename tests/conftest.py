"""Fixtures: a real sandbox upstream on loopback, the portal wired to it, and helpers."""
from __future__ import annotations

import functools
import logging
import os
import re
import uuid
from pathlib import Path

import pytest

from facesite import create_app
from facesite.config import Settings
from facesite.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from tests.servers import FakeVendor, ServerThread

# Real face photos shipped with the tests (see tests/data/faces/README.md for their licence).
FACES = Path(__file__).resolve().parent / "data" / "faces"

ROOT = Path(__file__).resolve().parents[1]
# Read from the environment but not listed in .env.example: the platform sets DYNO, SESSION_HOURS is
# SESSION_MAX_HOURS's old name, FACESITE_PASSWORD is create-user's input.
UNLISTED_ENV = ("DYNO", "SESSION_HOURS", "FACESITE_PASSWORD")
# One account per role in every test app; the password is the same for all.
PASSWORD = "correct horse battery"
STAFF = {"viewer": "vera", "operator": "otto", "admin": "ada"}
# Face sets every test portal's catalogue holds: "1" and "branch-1" for the fake vendor, and one
# the catalogue knows but the vendor does not (an administrator's typo).
CATALOGUE = ("demo", "1", "branch-1", "no-such-set")
# Generous limits, so tests that send many forms are not throttled (a test of the limits sets its own).
TEST_LIMITS = {"RATE_LIMIT_ENROL": "1000 per minute", "RATE_LIMIT_SEARCH": "1000 per minute",
               "RATE_LIMIT_LOGIN": "1000 per minute"}


def face(name: str) -> bytes:
    return (FACES / name).read_bytes()


class _EveryLogLine(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture(scope="session", autouse=True)
def every_log_line():
    """Over the whole run: no password, secret key or vendor token in any log line."""
    watcher = _EveryLogLine()
    logging.getLogger().addHandler(watcher)
    yield watcher
    logging.getLogger().removeHandler(watcher)
    text = "\n".join(watcher.lines)
    for secret in (PASSWORD, SANDBOX_SECRET_KEY, "fake-token-", "from the environment", "typed at the prompt"):
        assert secret not in text, f"{secret!r} reached a log line"


def documented_env() -> set[str]:
    """Every setting .env.example lists."""
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))


_instance_folder: str | None = None  # this test's, for make_app
# The face sets made for this test (face_set) and the portals it made (make_app): each such face set is in
# each such portal's catalogue, as if staff had named it once (the pickers list only the catalogue).
_this_test: dict[str, list] = {"face_sets": [], "portals": []}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Each test gets its own instance folder. Portals built in the test process read no environment
    (make_app); what still does (processes a test starts, the sandbox's commands, create-user) never sees
    the developer's own settings."""
    global _instance_folder
    for name in documented_env() | set(UNLISTED_ENV):
        monkeypatch.delenv(name, raising=False)
    _instance_folder = str(tmp_path / "instance")
    monkeypatch.setenv("INSTANCE_PATH", _instance_folder)
    _this_test["face_sets"], _this_test["portals"] = [], []


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The sandbox upstream over real HTTP, shared by the whole run (the face engine loads once)."""
    from facesite.sandbox.server import create_sandbox_app

    sandbox_app = create_sandbox_app(str(tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3"),
                                     SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY)
    server = ServerThread(sandbox_app)
    server.store = sandbox_app.extensions["sandbox_store"]
    yield server
    server.stop()


@pytest.fixture
def face_set(sandbox, request):
    """A fresh, empty face set in the sandbox for one test."""
    import hashlib

    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    face_set_id = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:50].strip("-") + "-" + digest
    sandbox.store.create_face_set(face_set_id)
    _this_test["face_sets"].append(face_set_id)
    for app in _this_test["portals"]:
        catalogue_face_sets(app, [face_set_id])
    return face_set_id


def catalogue_face_sets(app, face_set_ids) -> None:
    """Puts face sets into a portal's catalogue under their ids, as the sandbox's adoption does."""
    from facesite.extensions import db
    from facesite.models import FaceSet

    with app.app_context():
        known = set(db.session.scalars(db.select(FaceSet.id)))
        db.session.add_all([FaceSet(id=i, label=i) for i in face_set_ids if i not in known])
        db.session.commit()


POSTGRES_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url():
    """A fresh schema in the local PostgreSQL, dropped afterwards (CI has the server; a laptop may not)."""
    import sqlalchemy

    schema = f"facesite_test_{uuid.uuid4().hex[:12]}"
    try:
        engine = sqlalchemy.create_engine(POSTGRES_SERVER, connect_args={"connect_timeout": 2})
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sqlalchemy.exc.OperationalError:
        if os.environ.get("CI"):
            pytest.fail("CI must test the PostgreSQL path: no server on 127.0.0.1:5432")
        pytest.skip("no PostgreSQL on 127.0.0.1:5432 (CI has one)")
    # Heroku's form on purpose: the portal must accept postgres:// too.
    yield f"postgres://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


@pytest.fixture
def redis_url():
    """The local Redis (CI has one; a laptop may not)."""
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI"):
            pytest.fail("CI must test the Redis path: no Redis on 127.0.0.1:6379")
        pytest.skip("no Redis on 127.0.0.1:6379 (CI has one)")
    return url


@functools.cache
def password_hash() -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD)  # hashed once: scrypt is slow on purpose


def portal_settings(env: dict | None = None, **config) -> Settings:
    """Settings for a portal in this test: ``env`` as a process's environment would hold them, then
    app.config keys set directly; its instance folder is the test's unless ``env`` names one."""
    return Settings.for_tests(_instance_folder, env, **config)


def make_app(upstream_url: str, env: dict | None = None, **config):
    """A portal wired to ``upstream_url``, with one signed-up account per role (``env`` and ``config``:
    see portal_settings)."""
    from facesite.extensions import db
    from facesite.models import FaceSet, User

    # No background sweeper unless a test asks for one: batch jobs a test starts run at once anyway.
    app = create_app(portal_settings(env, ADVANCE_BASE_URL=upstream_url,
                                   **{"BATCH_SWEEP_SECONDS": 0, **TEST_LIMITS, **config}))
    with app.app_context():
        existing = set(db.session.scalars(db.select(User.username)))
        db.session.add_all([User(username=name, role=role, password_hash=password_hash())
                            for role, name in STAFF.items() if name not in existing])
        known = set(db.session.scalars(db.select(FaceSet.id)))
        db.session.add_all([FaceSet(id=i, label=f"Catalogue {i}") for i in CATALOGUE if i not in known])
        db.session.commit()
    catalogue_face_sets(app, _this_test["face_sets"])
    _this_test["portals"].append(app)
    return app


def sign_in(client, role="operator", username=None):
    """Sign in through the real login form (as the role's account in STAFF, or as ``username``)."""
    html = client.get("/auth/login").get_data(as_text=True)
    answer = client.post("/auth/login", data={"csrf_token": EnrolPage.hidden(html, "csrf_token"),
                                              "username": username or STAFF[role], "password": PASSWORD})
    assert answer.status_code == 303, answer.get_data(as_text=True)
    return client


def sign_out(client):
    """Press "Sign out" in the page header."""
    html = client.get("/register/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]*)"', html)
    return client.post("/auth/logout", data={"csrf_token": token.group(1) if token else ""})


@pytest.fixture
def app(sandbox):
    return make_app(sandbox.url)


@pytest.fixture
def client(app):
    """An operator, signed in."""
    return sign_in(app.test_client(), "operator")


@pytest.fixture
def anonymous(app):
    return app.test_client()


@pytest.fixture
def live_portal(app):
    """The portal itself served over HTTP on loopback (for browsers and concurrent clients)."""
    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture
def fake_vendor():
    vendor = FakeVendor()
    yield vendor
    vendor.stop()


@pytest.fixture
def fake_app(fake_vendor):
    """The portal wired to the scripted fake vendor, with short timeouts."""
    return make_app(fake_vendor.url, ADVANCE_READ_TIMEOUT=1)


class EnrolPage:
    """Fills and sends the enrol form the way a browser does, CSRF token and all."""

    def __init__(self, client):
        self.client = client

    def open(self, url="/enrol/"):
        response = self.client.get(url)
        assert response.status_code == 200
        return response.get_data(as_text=True)

    @staticmethod
    def hidden(html: str, name: str) -> str:
        match = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
        return match.group(1) if match else ""

    def send(self, picture: bytes | None, filename="face.jpg", html=None, **fields):
        html = html or self.open()
        data = {"csrf_token": self.hidden(html, "csrf_token"), "submissionId": self.hidden(html, "submissionId"),
                "keptPicture": self.hidden(html, "keptPicture"), "faceSetId": "demo"}
        data.update(fields)
        if picture is not None:
            import io
            data["faceImage"] = (io.BytesIO(picture), filename)
        return self.client.post("/enrol/", data=data, content_type="multipart/form-data")


@pytest.fixture
def enrol_page(client):
    return EnrolPage(client)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "browser tests need Debian's chromium: apt-get install chromium"
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright):
    """Debian's Chromium driven by Playwright (no browser download: Playwright's own builds are not used)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


def pick_face_set(page, face_set: str) -> None:
    """Chooses a face set as staff do: from the drop-down (by id or by what it shows), else typed into the
    type-ahead box (a long catalogue). ``page`` may be a frame. A face set the drop-down does not offer is
    sent as a page opened before an administrator took it out of the catalogue would send it."""
    field = page.locator("#faceSetId")
    if field.evaluate("element => element.tagName") != "SELECT":
        field.fill(face_set)
    elif field.evaluate("(select, wanted) => [...select.options].some(o => o.value === wanted || o.text === wanted)",
                        face_set):
        field.select_option(face_set)
    else:
        field.evaluate("(select, gone) => { select.add(new Option(gone, gone)); select.value = gone; }", face_set)


def browser_sign_in(page, username="otto"):
    from playwright.sync_api import expect

    page.goto("/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page.locator(".account")).to_contain_text(username)
