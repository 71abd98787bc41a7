"""Issue 24, findings 12 and 15: the sandbox's operator endpoints need the key of the portal that started it,
its vendor API takes no well-known keys, only administrators add its face sets to the catalogue, and a batch
worker uses a sandbox only once it has proved to be the one its web process started."""
import os
import stat
import time

import pytest
import requests
from click.testing import CliRunner
from flask import Flask, jsonify, request

from facesite import advance
from facesite.extensions import db
from facesite.models import FaceSet
from facesite.sandbox import keys as sandbox_keys
from facesite.sandbox.cli import sandbox_cli
from facesite.sandbox.launcher import free_port, running_sandbox, start_sandbox, stop_sandbox
from tests.support import OPERATOR, face, sign_in
from tests.support.servers import ServerThread
from tests.test_search import SearchPage, text

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def token_answer(base_url: str, access_key: str, secret_key: str) -> dict:
    stamp = str(int(time.time() * 1000))
    return requests.post(base_url + advance.TOKEN_PATH, timeout=5, json={
        "accessKey": access_key, "timestamp": stamp, "signature": advance.sign(access_key, secret_key, stamp)}).json()


def test_operator_endpoints_answer_only_with_the_operator_key(sandbox):
    # Any local process, or a web page posting a form to 127.0.0.1: refused, and nothing is made.
    assert requests.get(sandbox.url + "/sandbox/face-sets", timeout=5).status_code == 401
    wrong = {sandbox_keys.OPERATOR_HEADER: "guessed"}
    assert requests.get(sandbox.url + "/sandbox/face-sets", headers=wrong, timeout=5).status_code == 401
    cross_site = requests.post(sandbox.url + "/sandbox/face-sets", data={"id": "planted-by-a-web-page"}, timeout=5)
    assert cross_site.status_code == 401
    assert requests.post(sandbox.url + "/sandbox/tokens/revoke", timeout=5).status_code == 401
    picture = {"faceImage": ("f.jpg", face("obama.jpg"), "image/jpeg")}
    assert requests.post(sandbox.url + "/sandbox/faces", files=picture, timeout=30).status_code == 401
    assert not sandbox.store.face_set_exists("planted-by-a-web-page")
    # With the key: served.
    assert requests.get(sandbox.url + "/sandbox/face-sets", headers=OPERATOR, timeout=5).ok


@pytest.mark.parametrize("content_type", FORM_TYPES)
def test_the_json_operator_endpoints_refuse_form_bodies_even_with_the_key(sandbox, content_type):
    body = '{"id": "sent-as-a-form"}'
    for path in ("/sandbox/face-sets", "/sandbox/tokens/revoke"):
        answer = requests.post(sandbox.url + path, data=body, timeout=5,
                               headers={**OPERATOR, "Content-Type": content_type})
        assert answer.status_code == 415, (path, answer.status_code)
    assert not sandbox.store.face_set_exists("sent-as-a-form")


def test_the_sandbox_health_check_says_only_that_it_is_up(sandbox):
    assert requests.get(sandbox.url + "/healthz", timeout=5).json() == {"status": "ok"}


@pytest.fixture
def started_sandbox(tmp_path, monkeypatch):
    """A sandbox started as the portal starts it, with no keys named anywhere (as `bin/run`)."""
    monkeypatch.delenv(sandbox_keys.ACCESS_VARIABLE)
    monkeypatch.delenv(sandbox_keys.SECRET_VARIABLE)
    monkeypatch.setenv("SANDBOX_PORT", str(free_port()))
    db_path = str(tmp_path / "instance" / "sandbox.sqlite3")
    base_url, process = start_sandbox(db_path)
    try:
        yield base_url, db_path
    finally:
        stop_sandbox(process)


def test_a_started_sandbox_takes_fresh_keys_that_only_its_owner_can_read(started_sandbox, monkeypatch):
    base_url, db_path = started_sandbox
    # The keys once written in the README and .env.example open nothing.
    refused = token_answer(base_url, "sandbox-access-key", "sandbox-secret-key")
    assert (refused["code"], refused["message"]) == ("PARAMETER_ERROR", "Signature error")
    # Its own keys sit beside its database, for the operator's commands on this machine, and nobody else's.
    key_file = sandbox_keys.key_file(db_path)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    url, keys = sandbox_keys.load(db_path)
    assert url == base_url and keys == sandbox_keys.for_url(base_url)
    assert token_answer(base_url, keys.access_key, keys.secret_key)["code"] == "SUCCESS"
    operator = {sandbox_keys.OPERATOR_HEADER: keys.operator_key}
    assert requests.get(base_url + "/sandbox/face-sets", headers=operator, timeout=5).ok
    assert requests.get(base_url + "/sandbox/face-sets", timeout=5).status_code == 401
    # The operator's command tells them (and only them: the file is theirs) where it is and its keys.
    monkeypatch.setenv("SANDBOX_DB", db_path)
    shown = CliRunner().invoke(sandbox_cli, ["keys"]).output
    assert base_url in shown and keys.operator_key in shown and keys.secret_key in shown


def test_only_an_administrator_adds_a_sandbox_face_set_to_the_catalogue(app, sandbox):
    sandbox.store.create_face_set("named-in-a-link")
    viewer = SearchPage(sign_in(app.test_client(), "viewer"))
    html = viewer.open("/search/?faceSetId=named-in-a-link")
    refused = viewer.send(face("obama.jpg"), html=html, faceSetId="named-in-a-link")
    assert "It is not in the portal&#39;s catalogue of face sets" in text(refused)
    with app.app_context():
        assert db.session.get(FaceSet, "named-in-a-link") is None
    admin = sign_in(app.test_client(), "admin")
    assert "named-in-a-link" not in text(admin.get("/admin/face-sets"))
    # The administrator's own link still adds it.
    assert 'value="named-in-a-link" selected' in admin.get("/search/?faceSetId=named-in-a-link").get_data(as_text=True)


class Impostor:
    """Whatever else answers on the sandbox's port: says all the old sandbox said, and notes what it is sent."""

    def __init__(self, db_path: str):
        self.headers: list[dict] = []
        impostor = Flask("impostor")

        @impostor.route("/<path:path>", methods=["GET", "POST"])
        def anything(path):
            self.headers.append(dict(request.headers))
            if path == "healthz":
                return jsonify(status="ok", service="facesite-sandbox", db=os.path.abspath(db_path))
            return jsonify(proof="0" * 64, faceSets=[], code="SUCCESS", data={"token": "t", "expiredTime": 0})

        self.server = ServerThread(impostor)


def test_a_batch_worker_does_not_trust_another_server_on_the_sandbox_port(tmp_path, monkeypatch):
    db_path = str(tmp_path / "instance" / "sandbox.sqlite3")
    impostor = Impostor(db_path)
    try:
        monkeypatch.setenv("SANDBOX_PORT", impostor.server.url.rsplit(":", 1)[1])
        assert running_sandbox(db_path) is None
        # Nor when the key file left by a sandbox that has gone points at the port the impostor took.
        keys = sandbox_keys.configured()
        sandbox_keys.save(db_path, impostor.server.url, keys)
        assert running_sandbox(db_path) is None
        assert all(keys.operator_key not in str(headers) for headers in impostor.headers)
    finally:
        impostor.server.stop()



def test_a_portal_pointed_at_a_sandbox_started_by_hand_finds_its_keys(started_sandbox, monkeypatch):
    """`python -m facesite.sandbox serve` on the portal's sandbox data, the portal told its URL: the key file
    beside the data gives it the keys, once the sandbox has proved it holds them."""
    from facesite.upstream import build_client
    from tests.support import make_app

    base_url, db_path = started_sandbox
    sandbox_keys._known.pop(base_url)  # as a portal process that did not start it
    monkeypatch.setenv("SANDBOX_DB", db_path)
    vendor = build_client(make_app(base_url))
    answer = vendor.search("demo", face("obama.jpg"), filename="f.jpg", mime_type="image/jpeg")
    assert answer.envelope.code == "SUCCESS"
