"""The vendor client sends the token, pictures and ID numbers only where it was told: no redirect is
followed, plain http only to this machine, and proxies from the environment only when asked for."""
from __future__ import annotations

import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from facesite import config
from facesite.advance import AccessTokenCache, AdvanceClient, TransportError
from facesite.app import create_app
from tests.support import EnrolPage, face, make_app, portal_settings, sign_in
from tests.support.servers import FakeVendor

ADD_FACE_PATH = "/intl/openapi/face-search/facereferences"
TOKEN_PATH = "/openapi/auth/ticket/v1/generate-token"


class RecordingProxy:
    """A loopback HTTP server that writes down every request it gets (as a proxy would see it: the
    request line, headers and body) and answers 502, so nothing passes through it."""

    def __init__(self):
        self.seen: list[dict] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                seen.append({"line": self.requestline, "headers": dict(self.headers),
                             "body": self.rfile.read(length) if length else b""})
                self.send_response(502)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_CONNECT = _record

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def elsewhere(request):
    """A second loopback server: the other host a redirect names."""
    other = FakeVendor()
    request.addfinalizer(other.stop)
    return other


@pytest.fixture
def proxy(monkeypatch):
    recorder = RecordingProxy()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, recorder.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield recorder
    recorder.stop()


def client_for(vendor, **options):
    return AdvanceClient(vendor.url, access_key="ak-test", secret_key="sk-test", token_cache=AccessTokenCache(),
                         read_timeout=2, **options)


def add_face(client):
    return client.add_face("1", b"\xff\xd8 picture", filename="face.jpg", mime_type="image/jpeg",
                           details={"name": "Ana", "idNumber": "3201999900001111"})


def redirect_to(target, path):
    return "", 307, {"Location": target.url + path}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirected_add_face_is_an_error_and_nothing_goes_to_the_other_host(fake_vendor, elsewhere, status):
    fake_vendor.add_face.append(("", status, {"Location": elsewhere.url + ADD_FACE_PATH}))
    with pytest.raises(TransportError) as caught:
        add_face(client_for(fake_vendor))
    assert caught.value.kind == "redirect" and caught.value.http_status == status
    assert f"HTTP {status} redirect to 127.0.0.1, not followed" in str(caught.value)
    assert elsewhere.requests == []  # neither the token nor the picture nor the ID number went there
    assert len(fake_vendor.calls("add_face")) == 1


def test_a_redirected_token_request_sends_the_access_key_nowhere_else(fake_vendor, elsewhere):
    fake_vendor.token.append(redirect_to(elsewhere, TOKEN_PATH))
    with pytest.raises(TransportError) as caught:
        add_face(client_for(fake_vendor))
    assert caught.value.kind == "redirect" and caught.value.step == "token"
    assert elsewhere.requests == [] and fake_vendor.calls("add_face") == []


def test_staff_see_a_clear_page_when_the_vendor_address_redirects(fake_app, fake_vendor, elsewhere):
    fake_vendor.add_face.append(redirect_to(elsewhere, ADD_FACE_PATH))
    page = EnrolPage(sign_in(fake_app.test_client())).send(face("obama.jpg"), faceSetId="1", name="Ana")
    text = re.sub(r"\s+", " ", page.get_data(as_text=True))
    assert page.status_code == 502
    assert "answered with a redirect (HTTP 307 redirect to 127.0.0.1, not followed" in text
    assert 'value="Ana"' in text  # the form is kept
    assert elsewhere.requests == []


@pytest.mark.parametrize("url", ["http://10.0.0.5", "http://api.advance.ai", "http://[2001:db8::1]:8080",
                                 "ftp://127.0.0.1", "api.advance.ai", "https://user:pw@api.advance.ai"])
def test_a_vendor_address_that_is_not_https_off_this_machine_stops_the_portal(url):
    env = {"ADVANCE_ACCESS_KEY": "k", "ADVANCE_SECRET_KEY": "s", "SECRET_KEY": "x" * 32, "ADVANCE_BASE_URL": url}
    with pytest.raises(RuntimeError, match=r"^ADVANCE_BASE_URL must ") as caught:
        create_app(portal_settings(env))
    assert "pw" not in str(caught.value)
    with pytest.raises(ValueError, match="base URL must"):
        AdvanceClient(url, fixed_token="t")


def test_plain_http_is_refused_even_in_sandbox_mode():
    with pytest.raises(RuntimeError, match="must use https: 10.0.0.5 is not this machine"):
        create_app(portal_settings({"ADVANCE_BASE_URL": "http://10.0.0.5:9100"}))


@pytest.mark.parametrize("url", ["http://127.0.0.1:9100", "http://localhost:9100", "http://127.0.0.2",
                                 "http://[::1]:9100", "https://10.0.0.5", "https://sg-api.advance.ai"])
def test_https_anywhere_and_plain_http_on_loopback_are_accepted(url):
    assert config.vendor_base_url({"ADVANCE_ACCESS_TOKEN": "t", "ADVANCE_BASE_URL": url}) == url
    assert AdvanceClient(url, fixed_token="t").base_url == url


def test_proxy_settings_in_the_environment_are_ignored(fake_vendor, proxy):
    answer = add_face(client_for(fake_vendor))
    assert answer.envelope.code == "SUCCESS"
    assert proxy.seen == []
    assert len(fake_vendor.calls("token")) == 1 and len(fake_vendor.calls("add_face")) == 1


def test_the_environment_proxy_is_used_only_when_the_setting_asks(fake_vendor, proxy):
    # The same call with the proxy switched on goes through the recording proxy (which refuses it):
    # the test above would fail if the client ever read the environment by default.
    with pytest.raises(TransportError):
        add_face(client_for(fake_vendor, use_env_proxy=True))
    assert proxy.seen and fake_vendor.requests == []
    assert proxy.seen[0]["line"].startswith(f"POST {fake_vendor.url}{TOKEN_PATH}")


def test_the_portal_ignores_proxy_variables_unless_configured(fake_vendor, proxy):
    enrolled = EnrolPage(sign_in(make_app(fake_vendor.url).test_client())).send(face("obama.jpg"), faceSetId="1")
    assert enrolled.status_code == 303 and proxy.seen == []
    assert len(fake_vendor.calls("add_face")) == 1

    refused = EnrolPage(sign_in(make_app(fake_vendor.url, {"ADVANCE_USE_ENV_PROXY": "1"}).test_client())).send(face("obama.jpg"), faceSetId="1")
    assert refused.status_code == 502 and proxy.seen
    assert len(fake_vendor.calls("add_face")) == 1
