"""A real OpenID Connect provider on loopback for the tests (the oidc-provider-mock package: discovery,
authorization page, token endpoint, signed ID tokens, end-session page), with every request it receives
recorded and, when a test asks, its ID tokens altered on the way out (a forged token must be refused)."""
from __future__ import annotations

import base64
import io
import json
from urllib.parse import parse_qs

import requests

from tests.support.servers import ServerThread


class RecordingProvider:
    """WSGI middleware around the provider: ``requests`` holds (method, path, query, form) of each request;
    ``alter_id_token`` (a function of the ID token text) rewrites the token endpoint's answer;
    ``no_end_session`` leaves the end-session address out of the discovery document (as Google's does)."""

    def __init__(self, app):
        self.app = app
        self.requests: list[tuple[str, str, dict, dict]] = []
        self.alter_id_token = None
        self.no_end_session = False

    def __call__(self, environ, start_response):
        body = b""
        if environ["REQUEST_METHOD"] == "POST":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
        path = environ["PATH_INFO"]
        self.requests.append((environ["REQUEST_METHOD"], path, parse_qs(environ.get("QUERY_STRING", "")),
                              parse_qs(body.decode("latin-1"))))
        if path == "/oauth2/token" and self.alter_id_token is not None:
            def change(token):
                token["id_token"] = self.alter_id_token(token["id_token"])
        elif path == "/.well-known/openid-configuration" and self.no_end_session:
            def change(document):
                del document["end_session_endpoint"]
        else:
            return self.app(environ, start_response)
        answer = {}
        content = b"".join(self.app(environ, lambda status, headers, exc_info=None: answer.update(
            status=status, headers=headers)))
        data = json.loads(content)
        change(data)
        content = json.dumps(data).encode()
        headers = [(k, v) for k, v in answer["headers"] if k.lower() != "content-length"]
        start_response(answer["status"], [*headers, ("Content-Length", str(len(content)))])
        return [content]

    def seen(self, path: str) -> list[tuple[str, str, dict, dict]]:
        return [r for r in self.requests if r[1] == path]


class Provider:
    """The provider served on 127.0.0.1 (its issuer is its own address); ``users``: sub -> claims."""

    def __init__(self, users: dict[str, dict]):
        import oidc_provider_mock

        app = oidc_provider_mock.app(require_nonce=True,
                                     user_claims=[oidc_provider_mock.User(sub=sub, claims=claims)
                                                  for sub, claims in users.items()])
        self.recorder = RecordingProvider(app)
        self.server = ServerThread(self.recorder)
        self.url = self.server.url

    def set_claims(self, sub: str, claims: dict) -> None:
        """Change a person at the provider (their groups, say), as a directory administrator would."""
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5).raise_for_status()

    def stop(self):
        self.server.stop()


def with_claims(id_token: str, **claims) -> str:
    """The ID token with claims changed but its signature kept: what a forger would send."""
    header, payload, signature = id_token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"
