"""ID numbers the portal can find again without keeping them readable.

- The register keeps, beside the masked number, a keyed hash (HMAC-SHA256 under ``ID_NUMBER_KEY``) of the
  number in its normal form: an exact number typed again finds its entries, and the hash alone gives the
  number to nobody without the key. Changing ``ID_NUMBER_KEY`` (or, when it is not set, ``SECRET_KEY``, which
  it is derived from) makes every hash kept before it unfindable.
- The enrolling clerk's own result page shows the number she typed, in full, for a few minutes: it is kept
  sealed (Fernet, with a key of its own derived from ``SECRET_KEY``) beside the submission's outcome, opened
  only for her and only within ``ID_NUMBER_SHOWN_MINUTES`` of the enrolment, and swept once those are over
  (drafts.py).
- A batch row keeps the number from upload until the row is sent (or the job is discarded or purged),
  sealed the same way under a key of its own and with no time limit: ``seal_for_batch`` / ``unseal_for_batch``.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
import unicodedata

from cryptography.fernet import InvalidToken

from facesite.config import settings
from facesite.sealing import sealer

# What people type between the groups of an ID number ("3171 2345-6789"): spaces of every kind and dashes
# (hyphen, the Unicode dashes, the minus sign). Not part of the number.
SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
SEAL_PURPOSE = b"facesite: ID number shown once to whoever enrolled it"
BATCH_SEAL_PURPOSE = b"facesite: ID number of a batch row until it is sent"


def normalised(value: str | None) -> str:
    """The number as compared: full-width digits and letters made plain, separators gone, upper case."""
    return SEPARATORS.sub("", unicodedata.normalize("NFKC", value or "")).upper()


def lookup_hash(value: str | None) -> str | None:
    """The keyed hash the register keeps and is searched by (hex); None for an empty number."""
    number = normalised(value)
    if not number:
        return None
    key = settings().id_number_key.encode()
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


def seal(value: str | None) -> str | None:
    """The number as typed, encrypted and time-stamped, for the enrolling clerk's result page."""
    return sealer(SEAL_PURPOSE).encrypt(value.encode()).decode() if value else None


def seal_for_batch(value: str | None) -> str | None:
    """A batch row's number as uploaded, encrypted, to be kept until the row is sent."""
    return sealer(BATCH_SEAL_PURPOSE).encrypt(value.encode()).decode() if value else None


def unseal_for_batch(token: str | None) -> str | None:
    """The number a batch row keeps sealed; None when it keeps none, or it was sealed under another
    SECRET_KEY (the row is then sent, or corrected, as if its number had been left empty)."""
    if not token:
        return None
    try:
        return sealer(BATCH_SEAL_PURPOSE).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError, UnicodeError):
        return None


def unseal(token: str | None, now: float | None = None) -> str | None:
    """The number sealed in ``token`` while it is still young enough to show; else None."""
    minutes = settings().id_number_shown_minutes
    if not token or minutes <= 0:
        return None
    try:
        return sealer(SEAL_PURPOSE).decrypt_at_time(token.encode(), minutes * 60, int(now or time.time())).decode()
    except (InvalidToken, ValueError, UnicodeError):
        return None


def mask_id_number(value: str | None) -> str | None:
    """Keep the last four characters only: enough to tell records apart, not to misuse them."""
    if not value:
        return None
    return "••••" + value[-4:] if len(value) > 4 else "••••"
