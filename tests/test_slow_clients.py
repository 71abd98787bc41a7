"""Slow or stalled clients cannot take the portal down (issue 11, case 5), with the portal started by
the Procfile's own web line. Before, gunicorn's threaded worker gave a connection a thread from its
first byte and waited on it with no deadline: four sockets sending a header line every 2 s made
/healthz time out, and about a hundred such sockets left staff with a portal that never answered."""
from __future__ import annotations

import os
import re
import signal
import socket
import time

import pytest
import requests

from facesite.sandbox.launcher import free_port, wait_until_up
from tests.support import TEST_LIMITS, face, make_app
from tests.support.servers import kill_process, procfile_command, start_process
from tests.support.slow_clients import StalledClients
from tests.test_batch_resume import http_sign_in


@pytest.fixture
def procfile_portal(fake_vendor):
    """Starts the Procfile's web line (one worker process) against the fake vendor, with extra settings."""
    started = []

    def start(**settings):
        make_app(fake_vendor.url)  # the accounts and catalogue, in the instance folder the portal uses too
        port = free_port()
        env = {**os.environ, **TEST_LIMITS, "PORT": str(port), "ADVANCE_BASE_URL": fake_vendor.url,
               "WEB_CONCURRENCY": "1", **settings}
        portal = start_process(procfile_command("web"), env)
        started.append(portal)
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, timeout=60, process=portal)
        return url, ("127.0.0.1", port)

    yield start
    for portal in started:
        kill_process(portal, signal.SIGTERM)
    log = "".join(line for portal in started for line in portal.log_lines)
    assert "Traceback" not in log, log


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "still not so after a minute"
        time.sleep(0.1)


def enrol(url: str) -> requests.Response:
    """A person's whole enrolment: sign in, open the form, send it with a photo."""
    session = requests.Session()
    http_sign_in(session, url)
    form = session.get(url + "/enrol/", timeout=10).text
    fields = {name: re.search(rf'name="{name}" type="hidden" value="([^"]*)"', form).group(1)
              for name in ("csrf_token", "submissionId")}
    return session.post(url + "/enrol/", data={**fields, "faceSetId": "1", "name": "Slow Clients"}, timeout=10,
                        files={"faceImage": ("obama.jpg", face("obama.jpg"), "image/jpeg")})


def test_hundreds_of_stalled_clients_leave_the_portal_answering(procfile_portal, fake_vendor):
    url, address = procfile_portal()
    # 300 connections stuck in their headers and 20 in a body, one byte a second each; one the
    # portal cuts off is opened again at once, so the pressure holds while staff work.
    with StalledClients(address, headers=300, bodies=20, interval=1) as stalled:
        stalled.wait_until_held(320)
        assert requests.get(url + "/healthz", timeout=10).json() == {"status": "ok"}
        answer = enrol(url)
        assert answer.status_code == 200 and "Face enrolled" in answer.text
        assert stalled.held >= 300
    assert len(fake_vendor.calls("add_face")) == 1


def test_a_stalled_client_is_cut_off_with_an_answer(procfile_portal):
    url, address = procfile_portal(SERVER_HEADER_TIMEOUT="2", SERVER_BODY_TIMEOUT="2")
    with StalledClients(address, headers=5, bodies=5, interval=0.5, reconnect=False) as stalled:
        wait_for(lambda: stalled.cut_off == 10)
        assert stalled.opened == 10
    # Each was told why, in a page a browser can show, and then disconnected.
    assert len(stalled.answers) == 10
    assert all(answer.startswith(b"HTTP/1.1 408 The request arrived too slowly") for answer in stalled.answers)
    assert requests.get(url + "/healthz", timeout=10).ok


def test_at_the_connection_cap_stalled_clients_make_room_for_new_ones(procfile_portal):
    # Deadlines far away: only the cap decides who stays.
    url, address = procfile_portal(SERVER_MAX_CONNECTIONS="50", SERVER_HEADER_TIMEOUT="600")
    with StalledClients(address, headers=150, interval=1, reconnect=False) as stalled:
        wait_for(lambda: stalled.opened == 150)
        for _ in range(5):
            assert requests.get(url + "/healthz", timeout=10).ok
        wait_for(lambda: stalled.held < 50)  # the portal holds no more than its cap


def test_requests_beyond_the_bounds_get_a_page_saying_which(procfile_portal):
    url, address = procfile_portal(SERVER_MAX_BODY_MB="4", SERVER_BUFFER_MB="1")

    def post(megabytes):
        return requests.post(url + "/enrol/", data=b"x" * int(megabytes * 1024 * 1024), timeout=30,
                             headers={"Content-Type": "application/octet-stream"})

    too_large = post(8)  # refused on its Content-Length, before it is read
    assert too_large.status_code == 413 and "The portal accepts uploads up to 4 MB" in too_large.text
    busy = post(2)  # more than this process may hold at once
    assert busy.status_code == 503 and busy.headers["Retry-After"] == "60"
    assert "Wait a minute, then send the form again" in busy.text
    with socket.create_connection(address, timeout=10) as endless_headers:  # 40 KB of a header, and no end
        endless_headers.sendall(b"GET /healthz HTTP/1.1\r\nHost: portal\r\nX-Padding: " + b"a" * 40_000)
        answer = endless_headers.recv(4096)
    assert answer.startswith(b"HTTP/1.1 431") and b"Clear this site's cookies" in answer
    assert requests.get(url + "/healthz", timeout=10).ok
