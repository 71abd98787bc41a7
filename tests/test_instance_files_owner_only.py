"""Issue 24, item 6: the instance folder's files hold personal data and secrets (the portal's and the
sandbox's SQLite databases with their -wal and -shm, kept pictures, the secret key). They are made for the
portal's own account alone, even by a process started with the usual umask 022."""
from __future__ import annotations

import os
import stat

import pytest
import requests

from facesite.sandbox.launcher import free_port, wait_until_up
from tests.support import face
from tests.support.servers import kill_process, procfile_command, start_process
from tests.test_procfile import hidden


@pytest.fixture
def portal_under_umask_022(tmp_path):
    port, instance = free_port(), tmp_path / "instance"
    env = {**os.environ, "PORT": str(port), "INSTANCE_PATH": str(instance), "WEB_CONCURRENCY": "1"}
    env.pop("SANDBOX_DB", None)  # the sandbox's database in the instance folder, as by default
    process = start_process(["sh", "-c", 'umask 022 && exec "$@"', "sh", *procfile_command("web")], env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, timeout=60, process=process)
        yield url, process, instance
    finally:
        kill_process(process)


def test_instance_files_are_readable_by_their_owner_alone(portal_under_umask_022):
    url, process, instance = portal_under_umask_022
    browser = requests.Session()
    link = next(line for line in process.log_lines if "/auth/setup/" in line)
    setup_url = url + "/auth/setup/" + link.rsplit("/auth/setup/", 1)[1].strip()
    setup = browser.get(setup_url, timeout=10).text
    browser.post(setup_url, timeout=10, data={"csrf_token": hidden(setup, "csrf_token"), "username": "first.admin",
                                              "password": "a long passphrase", "confirm": "a long passphrase"})
    form = browser.get(url + "/enrol/", timeout=10).text
    fields = {name: hidden(form, name) for name in ("csrf_token", "submissionId")}
    answer = browser.post(url + "/enrol/", data={**fields, "faceSetId": "demo", "name": "Umask"}, timeout=60,
                          files={"faceImage": ("obama.jpg", face("obama.jpg"), "image/jpeg")})
    assert answer.status_code == 200 and "Face enrolled" in answer.text

    names = {path.relative_to(instance).as_posix() for path in instance.rglob("*")}
    # (the sandbox closes its database after each call, and SQLite then removes its -wal and -shm)
    expected = {"facesite.sqlite3", "facesite.sqlite3-wal", "facesite.sqlite3-shm", "sandbox.sqlite3", "secret_key",
                "kept-pictures"}
    assert expected <= names, names
    assert any(name.startswith("kept-pictures/") for name in names), names  # the enrolment's preview
    modes = {name: stat.S_IMODE((instance / name).stat().st_mode) for name in names}
    modes["."] = stat.S_IMODE(instance.stat().st_mode)
    loose = {name: oct(mode) for name, mode in modes.items()
             if mode != (0o700 if (instance / name).is_dir() else 0o600)}
    assert not loose, loose
