"""What the portal keeps encrypted (a typed ID number for its result page, batch rows' ID numbers, second-factor
secrets) is sealed with Fernet under a key of its own for each purpose, derived from SECRET_KEY: one purpose's
key opens nothing of another's."""
from __future__ import annotations

import base64

from cryptography.fernet import Fernet

from facesite.config import derived_key, settings


def sealer(purpose: bytes) -> Fernet:
    raw = bytes.fromhex(derived_key(settings().secret_key, purpose))
    return Fernet(base64.urlsafe_b64encode(raw))
