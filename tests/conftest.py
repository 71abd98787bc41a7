"""Fixtures: a real sandbox upstream on loopback, the portal wired to it, and helpers."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from facesite import create_app
from facesite.sandbox import SANDBOX_ACCESS_KEY, SANDBOX_SECRET_KEY
from tests.servers import FakeVendor, ServerThread

# The team's shared photos sit beside the checkout (../shared), in CI as well.
FACES = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "faces"

# Every setting the portal reads (see .env.example).
PORTAL_ENV = ("ADVANCE_ACCESS_KEY", "ADVANCE_SECRET_KEY", "ADVANCE_ACCESS_TOKEN", "ADVANCE_REGION",
              "ADVANCE_BASE_URL", "ADVANCE_TOKEN_PERIOD", "ADVANCE_CONNECT_TIMEOUT", "ADVANCE_READ_TIMEOUT",
              "SECRET_KEY", "INSTANCE_PATH", "MAX_UPLOAD_MB", "DRAFT_MAX_AGE_HOURS", "SANDBOX_DB", "SANDBOX_PORT",
              "SANDBOX_ACCESS_KEY", "SANDBOX_SECRET_KEY")


def face(name: str) -> bytes:
    return (FACES / name).read_bytes()


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No test sees the developer's own vendor settings; each gets its own instance folder."""
    for name in PORTAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))


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
    face_set_id = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:60]
    sandbox.store.create_face_set(face_set_id)
    return face_set_id


@pytest.fixture
def app(sandbox):
    return create_app({"TESTING": True, "ADVANCE_BASE_URL": sandbox.url})


@pytest.fixture
def client(app):
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
    return create_app({"TESTING": True, "ADVANCE_BASE_URL": fake_vendor.url, "ADVANCE_READ_TIMEOUT": 1})


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
