"""Fixtures: a real sandbox upstream on loopback, the portal wired to it, a browser. Helpers are in
tests/support. Tests are marked as they are collected: ``browser`` (Chromium) and ``sandbox`` (the dlib face
engine), and ``slow`` (whole processes started as the Procfile starts them, a package installed, the bounded
fuzz run), so that ``bin/test -m "not browser and not sandbox and not slow"`` is the quick loop."""
from __future__ import annotations

import hashlib
import logging
import os
import re
import uuid
from pathlib import Path

import pytest

from facesite.sandbox import keys as sandbox_keys
from tests.support import (CHROMIUM, CHROMIUM_FLAGS, PASSWORD, POSTGRES_SERVER, SANDBOX_ACCESS_KEY, SANDBOX_KEYS,
                           SANDBOX_SECRET_KEY, UNLISTED_ENV, EnrolPage, ThisTest, catalogue_face_sets, documented_env,
                           make_app, sign_in)
from tests.support.servers import FakeVendor, ServerThread

BROWSER_FIXTURES = {"playwright", "browser", "page", "context"}
SLOW_MODULES = {"test_fuzz", "test_packaging", "test_batch_resume", "test_procfile", "test_slow_clients",
                "test_headers_through_gunicorn", "test_limits_through_gunicorn", "test_instance_files_owner_only",
                "test_portal_without_engine"}


def pytest_collection_modifyitems(items):
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        if used & BROWSER_FIXTURES:
            item.add_marker(pytest.mark.browser)
        if "sandbox" in used:
            item.add_marker(pytest.mark.sandbox)
        if item.module.__name__.rsplit(".", 1)[-1] in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


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
    for secret in (PASSWORD, SANDBOX_SECRET_KEY, SANDBOX_KEYS.operator_key, "fake-token-", "from the environment", "typed at the prompt"):
        assert secret not in text, f"{secret!r} reached a log line"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """Each test gets its own instance folder. Portals built in the test process read no environment
    (make_app); what still does (processes a test starts, the sandbox's commands, create-user) never sees
    the developer's own settings."""
    for name in documented_env() | set(UNLISTED_ENV):
        monkeypatch.delenv(name, raising=False)
    # As make_app's portals: a first administrator made in a portal process a test starts is not sent to the
    # second factor's setup page (the portal's own default, admin, is tested in test_second_factor.py).
    monkeypatch.setenv("MFA_REQUIRED_ROLES", "none")
    # The shared sandbox's pair, for a portal wired to it through a stand-in (its keys are known by its own URL).
    monkeypatch.setenv(sandbox_keys.ACCESS_VARIABLE, SANDBOX_ACCESS_KEY)
    monkeypatch.setenv(sandbox_keys.SECRET_VARIABLE, SANDBOX_SECRET_KEY)
    instance_folder = str(tmp_path / "instance")
    monkeypatch.setenv("INSTANCE_PATH", instance_folder)
    ThisTest.start(instance_folder)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """The sandbox upstream over real HTTP, shared by the whole run (the face engine loads once)."""
    from facesite.sandbox.server import create_sandbox_app

    sandbox_app = create_sandbox_app(str(tmp_path_factory.mktemp("sandbox") / "sandbox.sqlite3"), SANDBOX_KEYS)
    server = ServerThread(sandbox_app)
    sandbox_keys.remember(server.url, SANDBOX_KEYS)  # as the launcher does: the portals' operator calls carry its key
    server.store = sandbox_app.extensions["sandbox_store"]
    yield server
    server.stop()


@pytest.fixture
def face_set(sandbox, request):
    """A fresh, empty face set in the sandbox for one test."""
    digest = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:8]
    face_set_id = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:50].strip("-") + "-" + digest
    sandbox.store.create_face_set(face_set_id)
    ThisTest.face_sets.append(face_set_id)
    for app in ThisTest.portals:
        catalogue_face_sets(app, [face_set_id])
    return face_set_id


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


@pytest.fixture
def enrol_page(client):
    return EnrolPage(client)


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
