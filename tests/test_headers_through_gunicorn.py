"""Request headers through the Procfile's own web process, where gunicorn (not Flask's test client) reads them.

Header sign-on: what the identity proxy sent is what counts, even when a client slips its own copy of an
identity header beside the proxy's (gunicorn joins repeated headers with "," before the portal sees them; the
serving layer refuses them raw). Issue 24, finding 1. And a client's own X-Request-Id is not taken when no
router is counted in front (finding 10)."""
from __future__ import annotations

import os
import signal
import socket

import pytest

from facesite.sandbox.launcher import free_port, wait_until_up
from tests.support.servers import kill_process, procfile_command, start_process

SECRET = "proxy-shared-secret"


@pytest.fixture(scope="module")
def gunicorn_behind_a_proxy(tmp_path_factory):
    port, folder = free_port(), tmp_path_factory.mktemp("header-sign-on")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "ADVANCE_"))},
           "PORT": str(port), "INSTANCE_PATH": str(folder / "instance"), "WEB_CONCURRENCY": "1",
           "AUTH_MODE": "header", "AUTH_PROXY_SECRET": SECRET, "AUTH_GROUPS_HEADER": "X-Forwarded-Groups",
           "AUTH_VIEWER_GROUPS": "staff", "AUTH_ADMIN_GROUPS": "face-admins",
           "ADVANCE_BASE_URL": "http://127.0.0.1:9", "ADVANCE_ACCESS_KEY": "key", "ADVANCE_SECRET_KEY": "secret",
           "SECRET_KEY": "a secret key long enough for the tests of header sign-on"}
    process = start_process(procfile_command("web"), env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, timeout=60, process=process)
        yield port
    finally:
        kill_process(process, signal.SIGTERM)


def raw_get(port: int, path: str, headers: list[tuple[str, str]]) -> tuple[int, str, str]:
    """A GET with exactly these header lines, repeated ones included (HTTP clients merge or refuse them)."""
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace"), head.decode("latin-1")


def proxy_headers(email: str, groups: str = "staff") -> list[tuple[str, str]]:
    return [("X-Forwarded-Email", email), ("X-Proxy-Secret", SECRET), ("X-Forwarded-Groups", groups)]


def test_the_proxys_own_headers_let_a_viewer_in_and_no_further(gunicorn_behind_a_proxy):
    port = gunicorn_behind_a_proxy
    assert raw_get(port, "/register/", proxy_headers("vera@example.com"))[0] == 200
    assert raw_get(port, "/admin/users", proxy_headers("vera@example.com"))[0] == 403


@pytest.mark.parametrize("extra", [
    ("X-Forwarded-Groups", "face-admins"),  # the client's own groups beside the proxy's
    ("x-forwarded-groups", "face-admins"),  # in another case: still the same header
    ("X-Forwarded-Email", "ada@example.com"),  # a second identity
    ("X-Proxy-Secret", SECRET),  # a second secret
])
def test_an_identity_header_sent_twice_is_refused_before_the_portal_reads_it(gunicorn_behind_a_proxy, extra):
    port = gunicorn_behind_a_proxy
    status, body, _ = raw_get(port, "/admin/users", [extra] + proxy_headers("mallory@example.com"))
    assert status == 400 and "more than once" in body
    # Nobody was raised, and the person was not even made an account by the refused request.
    status, _, _ = raw_get(port, "/admin/users", proxy_headers("mallory@example.com"))
    assert status == 403


def test_a_header_spelled_with_underscores_is_not_the_proxys(gunicorn_behind_a_proxy):
    port = gunicorn_behind_a_proxy
    status, _, _ = raw_get(port, "/admin/users", [("X_Forwarded_Groups", "face-admins")] + proxy_headers("eve@example.com"))
    assert status == 403


def test_a_clients_own_request_id_is_not_taken_without_a_counted_router(gunicorn_behind_a_proxy):
    port = gunicorn_behind_a_proxy
    _, _, head = raw_get(port, "/healthz", [("X-Request-Id", "someone-elses-request-0001")])
    given = [line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("x-request-id:")]
    assert len(given) == 1 and given[0] != "someone-elses-request-0001" and len(given[0]) == 32
