"""The sandbox's operator endpoints (outside the vendor's API), for the portal in sandbox mode."""
from __future__ import annotations

import requests

TIMEOUT = 5


def list_face_sets(base_url: str) -> list[dict]:
    answer = requests.get(f"{base_url}/sandbox/face-sets", timeout=TIMEOUT)
    answer.raise_for_status()
    return answer.json()["faceSets"]


def create_face_set(base_url: str, face_set_id: str, name: str) -> None:
    answer = requests.post(f"{base_url}/sandbox/face-sets", json={"id": face_set_id, "name": name}, timeout=TIMEOUT)
    answer.raise_for_status()


def detect_faces(base_url: str, picture: bytes, filename: str, mime_type: str) -> list[dict]:
    """The boxes of every face in the picture, largest first (nothing is added or searched)."""
    answer = requests.post(f"{base_url}/sandbox/faces", files={"faceImage": (filename, picture, mime_type)},
                           timeout=(TIMEOUT, 30))
    answer.raise_for_status()
    return answer.json()["faces"]
