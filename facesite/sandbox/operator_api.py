"""The sandbox's operator endpoints (outside the vendor's API), for the portal in sandbox mode."""
from __future__ import annotations

import secrets

import requests

from facesite.sandbox import keys as sandbox_keys

TIMEOUT = 5


def _send(method: str, url: str, **arguments) -> requests.Response:
    # The sandbox is the portal's own neighbour: like the vendor client, never through a proxy named in the
    # environment (HTTP_PROXY and friends would otherwise carry the pictures to whatever they name).
    with requests.Session() as session:
        session.trust_env = False
        return session.request(method, url, **arguments)


def _call(method: str, base_url: str, path: str, **arguments) -> requests.Response:
    """An operator call, with the operator key of the sandbox this process started (or checked) at ``base_url``;
    a sandbox it does not know gets none, and refuses."""
    keys = sandbox_keys.for_url(base_url)
    headers = {sandbox_keys.OPERATOR_HEADER: keys.operator_key} if keys else {}
    answer = _send(method, base_url + path, headers=headers, **arguments)
    answer.raise_for_status()
    return answer


def list_face_sets(base_url: str) -> list[dict]:
    return _call("GET", base_url, "/sandbox/face-sets", timeout=TIMEOUT).json()["faceSets"]


def create_face_set(base_url: str, face_set_id: str, name: str) -> None:
    _call("POST", base_url, "/sandbox/face-sets", json={"id": face_set_id, "name": name}, timeout=TIMEOUT)


def detect_faces(base_url: str, picture: bytes, filename: str, mime_type: str) -> list[dict]:
    """The boxes of every face in the picture, largest first (nothing is added or searched)."""
    return _call("POST", base_url, "/sandbox/faces", files={"faceImage": (filename, picture, mime_type)},
                 timeout=(TIMEOUT, 30)).json()["faces"]


def proves_key(base_url: str, operator_key: str) -> bool:
    """Whether the server at ``base_url`` holds ``operator_key``: it answers a fresh challenge with its proof,
    and the key itself is never sent to a server not yet trusted."""
    challenge = secrets.token_hex(16)
    try:
        answer = _send("GET", f"{base_url}/sandbox/proof", params={"challenge": challenge}, timeout=1).json()
    except (requests.RequestException, ValueError):
        return False
    return isinstance(answer, dict) and secrets.compare_digest(
        str(answer.get("proof", "")).encode(), sandbox_keys.proof(operator_key, challenge).encode())
