"""A second factor for password accounts: a TOTP app (RFC 6238, 30-second codes) and one-time recovery codes.

- The TOTP secret is kept sealed (Fernet, under a key derived from SECRET_KEY for this purpose alone), never in
  clear and never logged; a new secret waits, sealed too, until the person confirms it with a code.
- A code is accepted once: the 30-second step of the last accepted code is kept, and a code of that step or an
  earlier one is refused (one conditional UPDATE, so two requests cannot both use it).
- Recovery codes are kept as keyed hashes; using one deletes it, making new ones deletes the old.
- Who must have a factor: password accounts in a role of MFA_REQUIRED_ROLES. Accounts of the identity proxy
  or the company sign-in leave the second factor to the company's provider.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta

import pyotp
import segno
from cryptography.fernet import InvalidToken
from sqlalchemy import delete, or_, update

from facesite.config import derived_key, settings
from facesite.extensions import db, short_transactions
from facesite.models import RecoveryCode, SecondFactor, User, utcnow
from facesite.sealing import sealer

SEAL_PURPOSE = b"facesite: TOTP secrets of the second factor"
RECOVERY_PURPOSE = b"facesite: recovery codes of the second factor"
ISSUER = "facesite"
STEP_SECONDS = 30
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
PENDING_KEEP_HOURS = 24  # a secret shown on the setup page and never confirmed is forgotten after this


def _unseal(token: str | None) -> str | None:
    if not token:
        return None
    try:
        return sealer(SEAL_PURPOSE).decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError):  # SECRET_KEY changed: the factor must be reset by an administrator
        return None


def factor_of(user: User) -> SecondFactor | None:
    return db.session.get(SecondFactor, user.id)


def is_on(user: User) -> bool:
    factor = factor_of(user)
    return factor is not None and factor.secret_sealed is not None


def required_for(user: User) -> bool:
    """Whether this account must have a factor before it may do anything: a password account in a required role."""
    return user.source == "local" and user.role in settings().mfa_required_roles


def must_set_up(user: User) -> bool:
    return required_for(user) and not is_on(user)


def pending_secret(user: User) -> str:
    """The new secret the setup page shows, made on the first visit and kept (sealed) until confirmed."""
    factor = factor_of(user) or SecondFactor(user_id=user.id)
    secret = _unseal(factor.pending_sealed)
    if secret is None:
        secret = pyotp.random_base32()
        factor.pending_sealed, factor.pending_since = sealer(SEAL_PURPOSE).encrypt(secret.encode()).decode(), utcnow()
        db.session.add(factor)
        db.session.commit()
    return secret


def grouped(secret: str) -> str:
    """The secret in groups of four, as people type it into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def qr_code(user: User, secret: str) -> str:
    """The otpauth:// address as a QR code, a data: URI of an SVG picture (the CSP allows data: images)."""
    address = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    return segno.make(address, error="m").svg_data_uri(scale=5, border=2)


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The step (this one, or the one before or after for a clock a little off) whose code is ``code``."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isdigit()):
        return None
    totp, current = pyotp.TOTP(secret), int(now) // STEP_SECONDS
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _take_step(user_id: int, step: int) -> bool:
    """Mark ``step`` used; False when it (or a later one) was used already: a replayed code."""
    table = SecondFactor.__table__
    with short_transactions().begin() as connection:
        return bool(connection.execute(update(table).where(
            table.c.user_id == user_id, or_(table.c.last_step.is_(None), table.c.last_step < step))
            .values(last_step=step)).rowcount)


def check_code(user: User, code: str, now: float | None = None) -> bool:
    """A current code of the account's factor, not used before."""
    factor = factor_of(user)
    secret = _unseal(factor.secret_sealed) if factor else None
    step = _matching_step(secret, code or "", now or time.time()) if secret else None
    if step is None or not _take_step(user.id, step):
        return False
    db.session.expire(factor)
    return True


def confirm(user: User, code: str, now: float | None = None) -> list[str] | None:
    """Turn the pending secret on when ``code`` is its current code; the new recovery codes, or None."""
    factor = factor_of(user)
    secret = _unseal(factor.pending_sealed) if factor else None
    step = _matching_step(secret, code or "", now or time.time()) if secret else None
    if step is None:
        return None
    factor.secret_sealed, factor.confirmed_at, factor.last_step = factor.pending_sealed, utcnow(), step
    factor.pending_sealed = factor.pending_since = None
    db.session.commit()
    return new_recovery_codes(user)


def _recovery_hash(code: str) -> str:
    key = bytes.fromhex(derived_key(settings().secret_key, RECOVERY_PURPOSE))
    normal = "".join(code.lower().split()).replace("-", "")
    return hmac.new(key, normal.encode("utf-8", "replace"), hashlib.sha256).hexdigest()


def new_recovery_codes(user: User) -> list[str]:
    """Ten new codes (shown once), replacing any the account had."""
    codes = ["-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(5)) for _ in range(2))
             for _ in range(RECOVERY_CODES)]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all([RecoveryCode(user_id=user.id, code_hash=_recovery_hash(code)) for code in codes])
    db.session.commit()
    return codes


def use_recovery_code(user: User, code: str) -> bool:
    """True once for each of the account's recovery codes (deleted as it is used)."""
    if not code or len(code) > 64:
        return False
    with short_transactions().begin() as connection:
        return bool(connection.execute(delete(RecoveryCode.__table__).where(
            RecoveryCode.__table__.c.user_id == user.id,
            RecoveryCode.__table__.c.code_hash == _recovery_hash(code))).rowcount)


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(RecoveryCode)
                             .where(RecoveryCode.user_id == user.id)) or 0


def remove(user_id: int) -> None:
    """Forget an account's factor and recovery codes (an administrator's reset, or the account removed); the
    caller commits."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user_id))


def purge(now) -> int:
    """Forget secrets shown on a setup page and never confirmed (the daily purge)."""
    cutoff = now - timedelta(hours=PENDING_KEEP_HOURS)
    with short_transactions().begin() as connection:
        forgotten = connection.execute(update(SecondFactor.__table__).where(
            SecondFactor.pending_since < cutoff).values(pending_sealed=None, pending_since=None)).rowcount
        connection.execute(delete(SecondFactor.__table__).where(SecondFactor.secret_sealed.is_(None),
                                                                SecondFactor.pending_sealed.is_(None)))
    return forgotten
