"""The portal started exactly as the platform starts it: the Procfile's web line, no credentials."""
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from facesite.sandbox.launcher import free_port, wait_until_up
from tests.support import face
from tests.support.servers import procfile_command

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def procfile_portal(tmp_path):
    port = free_port()
    env = {**os.environ, "PORT": str(port), "INSTANCE_PATH": str(tmp_path / "instance"),
           "SANDBOX_DB": str(tmp_path / "sandbox.sqlite3"), "WEB_CONCURRENCY": "2",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    process = subprocess.Popen(procfile_command("web"), cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    process.log_lines = []
    threading.Thread(target=lambda: process.log_lines.extend(process.stdout), daemon=True).start()
    try:
        wait_until_up(url, timeout=60, process=process)
        yield url, process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)  # the whole group, sandbox included
        except ProcessLookupError:
            pass
        # gunicorn gives its workers up to graceful_timeout (30 s) to finish, then stops the sandbox (5 s):
        # a wait of exactly 30 s failed now and then although the portal stopped as configured.
        process.wait(timeout=60)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def test_the_procfile_serves_the_portal_with_its_own_sandbox(procfile_portal):
    url, process = procfile_portal
    browser = requests.Session()
    assert browser.get(url + "/enrol/", timeout=10).url.startswith(url + "/auth/login")  # staff only
    # The first administrator comes from the one-time link in the log, printed once for all workers.
    links = [line for line in process.log_lines if "/auth/setup/" in line]
    assert len(links) == 1, process.log_lines
    setup_url = url + "/auth/setup/" + links[0].rsplit("/auth/setup/", 1)[1].strip()
    setup = browser.get(setup_url, timeout=10).text
    created = browser.post(setup_url, timeout=10, data={"csrf_token": hidden(setup, "csrf_token"),
                                                        "username": "first.admin", "password": "a long passphrase",
                                                        "confirm": "a long passphrase"})
    assert "first.admin" in created.text
    assert browser.get(setup_url, timeout=10).status_code == 404  # the link worked once
    form = browser.get(url + "/enrol/", timeout=10).text
    assert "Sandbox mode." in form
    fields = {name: hidden(form, name) for name in ("csrf_token", "submissionId")}
    answer = browser.post(url + "/enrol/", data={**fields, "faceSetId": "demo", "name": "Procfile"}, timeout=60,
                          files={"faceImage": ("obama.jpg", face("obama.jpg"), "image/jpeg")})
    assert answer.status_code == 200 and "Face enrolled" in answer.text
    # Several worker processes answer alike: the same signing key and the same sandbox for all.
    for _ in range(6):
        assert "Enrol a face" in browser.get(url + "/enrol/", timeout=10).text


def running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state != "Z"


def test_stopping_the_portal_stops_its_sandbox(procfile_portal):
    url, process = procfile_portal
    children = subprocess.run(["pgrep", "-f", "--", f"--parent-pid {process.pid}"], capture_output=True, text=True)
    sandbox_pids = [int(pid) for pid in children.stdout.split()]
    assert len(sandbox_pids) == 1, "gunicorn should have started exactly one sandbox for all its workers"
    process.terminate()  # the master alone, as the platform does
    process.wait(timeout=60)  # graceful_timeout (30 s) then the sandbox's stop (5 s), at the most
    deadline = time.monotonic() + 10
    while running(sandbox_pids[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(sandbox_pids[0])
