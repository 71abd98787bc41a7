"""Rate limits mean what they say under the Procfile's gunicorn, with no Redis: every worker of the machine
counts in the same place (issue 24, finding 7: two workers let 20 sign-in tries a minute through, not 10)."""
from __future__ import annotations

import os
import re
import signal
import uuid

import pytest
import requests

from facesite.sandbox.launcher import free_port, wait_until_up
from tests.support.servers import kill_process, procfile_command, start_process


@pytest.fixture
def two_workers(tmp_path):
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "ADVANCE_", "RATE_LIMIT", "REDIS"))},
           "PORT": str(port), "INSTANCE_PATH": str(tmp_path / "instance"), "WEB_CONCURRENCY": "2",
           "RATE_LIMIT_LOGIN": "10 per minute", "ADVANCE_BASE_URL": "http://127.0.0.1:9",
           "ADVANCE_ACCESS_KEY": "key", "ADVANCE_SECRET_KEY": "secret",
           "SECRET_KEY": "a secret key long enough for the tests of rate limits"}
    process = start_process(procfile_command("web"), env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, timeout=60, process=process)
        yield url, process
    finally:
        kill_process(process, signal.SIGTERM)


def test_sign_in_tries_are_counted_once_across_the_workers(two_workers):
    url, process = two_workers
    answers = []
    for _ in range(24):
        with requests.Session() as browser:  # a new connection each time: gunicorn hands it to either worker
            page = browser.get(url + "/auth/login", headers={"Connection": "close"}, timeout=10)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
            answer = browser.post(url + "/auth/login", data={"csrf_token": token, "username": f"x{uuid.uuid4().hex[:8]}",
                                                            "password": "not the password"},
                                  headers={"Connection": "close"}, timeout=10, allow_redirects=False)
            answers.append(answer.status_code)
    assert answers.count(429) == 14 and answers[:10] == [401] * 10, answers
    workers = {line.split("pid:")[1].split(")")[0].strip() for line in process.log_lines if "Booting worker" in line}
    assert len(workers) == 2
