"""Links that work once: the first administrator's, and a password reset for one account.

The secret part of a link is a random token shown once (printed to the log or a terminal, or on an
administrator's page); the database keeps only its SHA-256, so a copy of the database opens nothing.
A link is used by one conditional UPDATE, so two requests sent at the same moment cannot both use it.
For an account's reset links only the newest one counts: making a new one retires the ones before it.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from facesite.extensions import db
from facesite.models import OneTimeLink, utcnow

SETUP, RESET = "setup", "reset"
# What looking a link up can find. Only VALID may be used; the others each get their own words.
VALID, UNKNOWN, USED, REPLACED, EXPIRED = "valid", "unknown", "used", "replaced", "expired"
TOKEN_MAX_CHARS = 100  # token_urlsafe(32) is 43 characters; anything much longer is no token of ours


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def issue(purpose: str, hours: int, user_id: int | None = None, made_by: str | None = None) -> tuple[str, OneTimeLink]:
    """A new link, committed: its token (to hand over, never stored) and its row."""
    token, now = secrets.token_urlsafe(32), utcnow()
    link = OneTimeLink(token_hash=_hash(token), purpose=purpose, user_id=user_id, made_by=made_by, created_at=now,
                       expires_at=now + timedelta(hours=hours))
    db.session.add(link)
    db.session.commit()
    return token, link


def purge(now, keep_days: int) -> int:
    """Drop links that died (used or expired) more than ``keep_days`` ago; how many. Their hashes are
    worthless by then, and the security log keeps who made and used each."""
    cut = now - timedelta(days=keep_days)
    dead = OneTimeLink.__table__.delete().where(OneTimeLink.expires_at < cut)
    with db.engine.begin() as connection:
        return connection.execute(dead).rowcount


def live(purpose: str):
    """A query of the links of ``purpose`` that are neither used nor expired."""
    return select(OneTimeLink).where(OneTimeLink.purpose == purpose, OneTimeLink.used_at.is_(None),
                                     OneTimeLink.expires_at > utcnow())


@dataclass(frozen=True)
class Found:
    state: str
    link: OneTimeLink | None = None


def look_up(purpose: str, token: str) -> Found:
    """The link ``token`` opens, and whether it may still be used."""
    if not token or len(token) > TOKEN_MAX_CHARS:
        return Found(UNKNOWN)
    link = db.session.scalar(select(OneTimeLink).filter_by(token_hash=_hash(token), purpose=purpose))
    if link is None:
        return Found(UNKNOWN)
    if link.used_at is not None:
        return Found(USED, link)
    if link.user_id is not None and db.session.scalar(
            select(OneTimeLink.id).where(OneTimeLink.purpose == purpose, OneTimeLink.user_id == link.user_id,
                                         OneTimeLink.id > link.id).limit(1)) is not None:
        return Found(REPLACED, link)
    if link.expires_at <= utcnow():
        return Found(EXPIRED, link)
    return Found(VALID, link)


def use(link: OneTimeLink) -> bool:
    """Mark ``link`` used, in the caller's transaction (it commits). False: another request used it first."""
    used = db.session.execute(update(OneTimeLink).where(OneTimeLink.id == link.id, OneTimeLink.used_at.is_(None))
                              .values(used_at=utcnow()).execution_options(synchronize_session=False))
    return used.rowcount == 1
