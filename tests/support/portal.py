"""Test portals and the staff in them: settings, apps wired to an upstream, signing in, the enrol form.

A portal made here gets its SQLite database as a copy of one migrated once per test process (the 17
migrations cost a quarter of a second per app), with exactly what a fresh portal's first start leaves in
it; a test that needs the migrations to run (or another database) builds its app with ``create_app``.
"""
from __future__ import annotations

import functools
import io
import os
import re
import shutil
import sqlite3
import tempfile
from dataclasses import replace
from pathlib import Path

from facesite.app import create_app
from facesite.config import Settings, settings
from facesite.sandbox.keys import OPERATOR_HEADER, SandboxKeys

ROOT = Path(__file__).resolve().parents[2]
# Real face photos shipped with the tests (see tests/data/faces/README.md for their licence).
FACES = ROOT / "tests" / "data" / "faces"
# Read from the environment but not listed in .env.example: the platform sets DYNO, SESSION_HOURS is
# SESSION_MAX_HOURS's old name, FACESITE_PASSWORD is create-user's input.
# The keys of the tests' shared sandbox (conftest's ``sandbox``), and the pair every portal a test makes signs
# with for a sandbox it did not start itself (one behind a slow stand-in): clean_environment names them.
SANDBOX_KEYS = SandboxKeys("test-sandbox-access-key", "test-sandbox-secret-key", "test-sandbox-operator-key")
SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY = SANDBOX_KEYS.access_key, SANDBOX_KEYS.secret_key
OPERATOR = {OPERATOR_HEADER: SANDBOX_KEYS.operator_key}  # headers of an operator call to that sandbox
UNLISTED_ENV = ("DYNO", "SESSION_HOURS", "FACESITE_PASSWORD")
# One account per role in every test app; the password is the same for all.
PASSWORD = "correct horse battery"
STAFF = {"viewer": "vera", "operator": "otto", "admin": "ada"}
# Face sets every test portal's catalogue holds: "1" and "branch-1" for the fake vendor, and one
# the catalogue knows but the vendor does not (an administrator's typo).
CATALOGUE = ("demo", "1", "branch-1", "no-such-set")
# Generous limits, so tests that send many forms are not throttled (a test of the limits sets its own).
TEST_LIMITS = {"RATE_LIMIT_ENROL": "1000 per minute", "RATE_LIMIT_SEARCH": "1000 per minute",
               "RATE_LIMIT_LOGIN": "1000 per minute", "RATE_LIMIT_THUMBNAILS": "10000 per minute"}
POSTGRES_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"


class ThisTest:
    """What the running test has made so far (conftest.py's autouse fixture starts it afresh): its instance
    folder, and the face sets it made (each goes into the catalogue of every portal it makes, as if staff
    had named it once: the pickers list only the catalogue)."""

    instance_folder: str | None = None
    face_sets: list[str] = []
    portals: list = []

    @classmethod
    def start(cls, instance_folder: str) -> None:
        cls.instance_folder, cls.face_sets, cls.portals = instance_folder, [], []


def face(name: str) -> bytes:
    return (FACES / name).read_bytes()


def documented_env() -> set[str]:
    """Every setting .env.example lists."""
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))


@functools.cache
def password_hash() -> str:
    """The test accounts' password, hashed with few rounds: the portal's own scrypt takes a tenth of a second
    of CPU per sign-in, on purpose, and the suite signs in hundreds of times (what the portal itself hashes,
    for accounts made through its pages and commands, stays scrypt)."""
    from werkzeug.security import generate_password_hash

    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


def portal_settings(env: dict | None = None, **config) -> Settings:
    """Settings for a portal in this test: ``env`` as a process's environment would hold them, then
    app.config keys set directly; its instance folder is the test's unless ``env`` names one."""
    return Settings.for_tests(ThisTest.instance_folder, env, **config)


@functools.cache
def migrated_database(sandbox_mode: bool) -> str:
    """A SQLite database as a fresh portal's first start leaves it (migrated; in sandbox mode the demo face
    set in the catalogue), made once per test process."""
    folder = tempfile.mkdtemp(prefix="facesite-template-")
    credentials = {} if sandbox_mode else {"ADVANCE_ACCESS_KEY": "template", "ADVANCE_SECRET_KEY": "template",
                                              "SECRET_KEY": "template secret key, 32 characters at least"}
    app = create_app(Settings.for_tests(folder, credentials, ADVANCE_BASE_URL="http://127.0.0.1:9",
                                        BATCH_SWEEP_SECONDS=0))
    path = settings(app).sqlalchemy_database_uri.removeprefix("sqlite:///")
    with app.app_context():
        from facesite.extensions import db

        for engine in db.engines.values():
            engine.dispose()
    with sqlite3.connect(path) as connection:  # everything in the main file, nothing left in the WAL
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def from_migrated_database(portal: Settings) -> Settings:
    """``portal`` starting from a copy of the migrated database, when it would migrate a new SQLite file."""
    instance = portal.instance_path
    if portal.sqlalchemy_database_uri or not portal.migrate_on_start or not instance:
        return portal
    target = os.path.join(instance, "facesite.sqlite3")
    if os.path.exists(target):
        return portal
    os.makedirs(instance, exist_ok=True)
    shutil.copyfile(migrated_database(portal.sandbox_mode), target)
    return replace(portal, migrate_on_start=False)


def make_app(upstream_url: str, env: dict | None = None, **config):
    """A portal wired to ``upstream_url``, with one signed-up account per role (``env`` and ``config``:
    see portal_settings). Its accounts have no second factor, and none is required unless ``env`` sets
    MFA_REQUIRED_ROLES (the portal's own default, admin, is tested in test_second_factor.py)."""
    from facesite.extensions import db
    from facesite.models import FaceSet, User

    # No background sweeper unless a test asks for one: batch jobs a test starts run at once anyway.
    env = {"MFA_REQUIRED_ROLES": "none", **(env or {})}
    app = create_app(from_migrated_database(portal_settings(env, ADVANCE_BASE_URL=upstream_url,
                                                            **{"BATCH_SWEEP_SECONDS": 0, **TEST_LIMITS, **config})))
    with app.app_context():
        existing = set(db.session.scalars(db.select(User.username)))
        db.session.add_all([User(username=name, role=role, password_hash=password_hash())
                            for role, name in STAFF.items() if name not in existing])
        known = set(db.session.scalars(db.select(FaceSet.id)))
        db.session.add_all([FaceSet(id=i, label=f"Catalogue {i}") for i in CATALOGUE if i not in known])
        db.session.commit()
    catalogue_face_sets(app, ThisTest.face_sets)
    ThisTest.portals.append(app)
    return app


def portal_without_accounts(upstream_url: str, caplog):
    """A portal with no account yet, started as a first start does (migrated, the first administrator's
    one-time link logged), and that link's path."""
    caplog.set_level("WARNING")
    app = create_app(portal_settings(ADVANCE_BASE_URL=upstream_url))
    message = next(r.getMessage() for r in caplog.records if "/auth/setup/" in r.getMessage())
    return app, "/auth/setup/" + message.rsplit("/auth/setup/", 1)[1]


def catalogue_face_sets(app, face_set_ids) -> None:
    """Puts face sets into a portal's catalogue under their ids, as the sandbox's adoption does."""
    from facesite.extensions import db
    from facesite.models import FaceSet

    with app.app_context():
        known = set(db.session.scalars(db.select(FaceSet.id)))
        db.session.add_all([FaceSet(id=i, label=i) for i in face_set_ids if i not in known])
        db.session.commit()


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
            data["faceImage"] = (io.BytesIO(picture), filename)
        return self.client.post("/enrol/", data=data, content_type="multipart/form-data")
