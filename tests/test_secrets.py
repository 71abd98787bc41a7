"""With real credentials configured, no key, secret or token reaches a page or a log line."""
import io
import json
import logging
import re
import sqlite3

import pytest

from facesite import log_format
from facesite.sandbox.keys import SandboxKeys
from tests.support import PASSWORD, EnrolPage, face, make_app, sign_in
from tests.support.servers import ServerThread

ACCESS_KEY, SECRET_KEY = "AKlive7e1f0c2d", "SKlive9a8b7c6d5e"


@pytest.fixture
def vendor_with_keys(tmp_path):
    from facesite.sandbox.server import create_sandbox_app

    db = tmp_path / "vendor.sqlite3"
    server = ServerThread(create_sandbox_app(str(db), SandboxKeys(ACCESS_KEY, SECRET_KEY, "operator-key")))
    server.db = db
    yield server
    server.stop()


def test_keys_and_tokens_never_appear_in_pages_or_logs(vendor_with_keys, monkeypatch, caplog, capsys,
                                                      every_log_line):
    caplog.set_level(logging.DEBUG)
    json_lines = io.StringIO()  # what LOG_FORMAT=json would write, exceptions' tracebacks included
    json_handler = log_format.handler("json", json_lines)
    logging.getLogger().addHandler(json_handler)
    app = make_app(vendor_with_keys.url, {"ADVANCE_ACCESS_KEY": ACCESS_KEY, "ADVANCE_SECRET_KEY": SECRET_KEY,
                                          "ADVANCE_BASE_URL": vendor_with_keys.url,
                                          "SECRET_KEY": "test-secret-key-for-signing-sessions"})
    assert not app.config["SANDBOX_MODE"]
    client = sign_in(app.test_client(use_cookies=True), "operator")
    page = EnrolPage(client)
    bodies = [page.open()]
    done = page.send(face("obama.jpg"), faceSetId="demo")
    assert done.status_code == 303
    bodies.append(client.get(done.headers["Location"]).get_data(as_text=True))
    bodies.append(page.send(face("obama.jpg"), faceSetId="missing").get_data(as_text=True))
    bodies.append(client.post("/enrol/", data={}).get_data(as_text=True))
    bodies.append(client.get("/nowhere").get_data(as_text=True))
    stranger = app.test_client()  # a failed and a good sign-in: the password typed must not echo
    login = stranger.get("/auth/login").get_data(as_text=True)
    bodies.append(stranger.post("/auth/login", data={"csrf_token": EnrolPage.hidden(login, "csrf_token"),
                                                    "username": "otto", "password": "Wrong-" + PASSWORD}
                                ).get_data(as_text=True))
    assert "Sandbox mode" not in bodies[0]

    tokens = [row[0] for row in sqlite3.connect(vendor_with_keys.db).execute("SELECT token FROM tokens")]
    assert tokens, "the portal should have signed in with its keys"
    captured = capsys.readouterr()
    logging.getLogger().removeHandler(json_handler)
    parsed = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    assert any(line["message"].startswith("vendor add_face") and line["request_id"] != "-" for line in parsed)
    everything = "\n".join(bodies + [caplog.text, captured.out, captured.err, json_lines.getvalue()])
    assert "FaceSet not found" in everything  # the pages and logs were really captured
    assert any("vendor add_face" in line for line in every_log_line.lines)  # so was the run-wide watcher
    for secret in [ACCESS_KEY, SECRET_KEY, PASSWORD, *tokens]:
        assert secret not in everything
    assert not re.search(r"X-ACCESS-TOKEN:\s*\S", everything, re.IGNORECASE)
