"""Creating accounts, checking sign-ins with lock-out, and the first administrator's one-time link."""
from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from facesite.extensions import db
from facesite.models import ROLES, SetupToken, User, utcnow

log = logging.getLogger(__name__)
SETUP_LINK_HOURS = 24


class AccountError(ValueError):
    pass


def create_user(username: str, password: str | None, role: str) -> User:
    username = username.strip().lower()
    if role not in ROLES:
        raise AccountError(f"role must be one of {', '.join(ROLES)}")
    if db.session.scalar(db.select(User).filter_by(username=username)):
        raise AccountError(f"a user named {username!r} exists already")
    user = User(username=username, role=role)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(username: str, password: str, max_failures: int, lock_minutes: int) -> tuple[User | None, str]:
    """(user, "") on success, else (None, reason for staff). Locks after ``max_failures``."""
    user = db.session.scalar(db.select(User).filter_by(username=username.strip().lower()))
    if user is not None and user.is_locked():
        minutes = max(1, round((user.locked_until - utcnow()).total_seconds() / 60))
        return None, f"Too many failed sign-ins: this account is locked for about {minutes} more minute(s)."
    if user is None or not user.check_password(password):
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= max_failures:
                user.locked_until = utcnow() + timedelta(minutes=lock_minutes)
                user.failed_logins = 0
                log.warning("account %s locked after %d failed sign-ins", user.username, max_failures)
            db.session.commit()
        return None, "Wrong username or password."
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    db.session.commit()
    return user, ""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_setup_link() -> str | None:
    """With no users and no live link, make a one-time token; returns it (to print) or None."""
    if db.session.scalar(db.select(User.id).limit(1)) is not None:
        return None
    live = db.select(SetupToken).where(SetupToken.used_at.is_(None), SetupToken.expires_at > utcnow())
    if db.session.scalar(live) is not None:
        return None
    token = secrets.token_urlsafe(32)
    db.session.add(SetupToken(token_hash=_hash(token), expires_at=utcnow() + timedelta(hours=SETUP_LINK_HOURS)))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return token


def setup_token_is_valid(token: str) -> bool:
    row = db.session.scalar(db.select(SetupToken).filter_by(token_hash=_hash(token)))
    no_users = db.session.scalar(db.select(User.id).limit(1)) is None
    return bool(row and row.used_at is None and row.expires_at > utcnow() and no_users)


def use_setup_token(token: str) -> None:
    row = db.session.scalar(db.select(SetupToken).filter_by(token_hash=_hash(token)))
    row.used_at = utcnow()
    db.session.commit()
