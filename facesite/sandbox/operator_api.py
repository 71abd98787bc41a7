"""The sandbox's operator endpoints (outside the vendor's API), for the portal in sandbox mode."""
from __future__ import annotations

import requests

TIMEOUT = 5


def _call(method: str, url: str, **arguments) -> requests.Response:
    # The sandbox is the portal's own neighbour: like the vendor client, never through a proxy named in the
    # environment (HTTP_PROXY and friends would otherwise carry the pictures to whatever they name).
    with requests.Session() as session:
        session.trust_env = False
        answer = session.request(method, url, **arguments)
    answer.raise_for_status()
    return answer


def list_face_sets(base_url: str) -> list[dict]:
    return _call("GET", f"{base_url}/sandbox/face-sets", timeout=TIMEOUT).json()["faceSets"]


def create_face_set(base_url: str, face_set_id: str, name: str) -> None:
    _call("POST", f"{base_url}/sandbox/face-sets", json={"id": face_set_id, "name": name}, timeout=TIMEOUT)


def detect_faces(base_url: str, picture: bytes, filename: str, mime_type: str) -> list[dict]:
    """The boxes of every face in the picture, largest first (nothing is added or searched)."""
    return _call("POST", f"{base_url}/sandbox/faces", files={"faceImage": (filename, picture, mime_type)},
                 timeout=(TIMEOUT, 30)).json()["faces"]
