"""Sign-in sessions kept on the server.

The browser's (signed) Flask session holds only a random token; the ``user_sessions`` table says
whether that token still stands. So signing out, changing a password or a role, or disabling an
account ends a session for good, even for a copy of the cookie saved before. Each session ends
after SESSION_IDLE_MINUTES without a request and SESSION_MAX_HOURS after sign-in, however busy.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from datetime import timedelta

from flask import flash, request, session
from flask_babel import gettext as _
from flask_login import login_user
from sqlalchemy import bindparam, insert, select, update

from facesite import security_events
from facesite.config import settings
from facesite.extensions import db, short_transactions
from facesite.models import User, UserSession, utcnow

TOKEN_KEY = "sid"
# Between a right password and the second factor's code: no session yet (the visitor is nobody to every page
# but the second step's), only which account and throttle key the code is for, for a few minutes.
SECOND_STEP_KEY = "second_step"
SECOND_STEP_SECONDS = 300
SEEN_EVERY_SECONDS = 30  # last_seen_at is written at most this often per session: not one write per request


# Read on every request: built once, not per request.
_SESSION_AND_USER = (select(UserSession, User).join(User, User.id == UserSession.user_id)
                     .where(UserSession.token_hash == bindparam("token_hash")))


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def begin(user: User, id_token: str | None = None) -> None:
    """A fresh session for ``user`` (nothing carried over from before signing in); ``id_token``: the OpenID
    Connect provider's, kept for signing out there too."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with short_transactions().begin() as connection:
        connection.execute(insert(UserSession).values(token_hash=_hash(token), user_id=user.id, created_at=now,
                                                      last_seen_at=now, address=(request.remote_addr or "")[:64],
                                                      id_token=id_token))
    session.clear()
    session.permanent = True
    session[TOKEN_KEY] = token
    login_user(user)


def await_second_step(user: User, throttle_key: str, target: str) -> None:
    """The password was right; the session begins only once the second factor's code is right too."""
    session.clear()
    session[SECOND_STEP_KEY] = {"user": user.id, "key": throttle_key, "next": target, "since": int(time.time())}


def awaiting_second_step() -> tuple[User, str, str] | None:
    """(account, throttle key, where to go next) of a sign-in waiting for its code; None when there is none or
    it waited too long."""
    waiting = session.get(SECOND_STEP_KEY)
    if not isinstance(waiting, dict) or time.time() - waiting.get("since", 0) > SECOND_STEP_SECONDS:
        session.pop(SECOND_STEP_KEY, None)
        return None
    user = db.session.get(User, waiting.get("user"))
    if user is None or not user.is_active:
        return None
    return user, str(waiting.get("key")), str(waiting.get("next"))


def user_for_request(user_id: str) -> User | None:
    """The user this request's session stands for, or None when it ended, expired or never was."""
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str) or not user_id.isdigit():
        return None
    found = db.session.execute(_SESSION_AND_USER, {"token_hash": _hash(token)}).first()
    if found is None:
        return None
    record, user = found
    if record.ended_at is not None or record.user_id != int(user_id):
        return None
    now, config = utcnow(), settings()
    idle = timedelta(minutes=config.session_idle_minutes)
    if now - record.last_seen_at > idle or now - record.created_at > timedelta(hours=config.session_max_hours):
        _end(UserSession.id == record.id)
        reason = "without activity" if now - record.last_seen_at > idle else "at the end of its longest allowed time"
        flash(_("You were signed out without activity. Sign in again.") if reason == "without activity"
              else _("You were signed out at the end of its longest allowed time. Sign in again."), "info")
        security_events.record("session_expired", actor=user.username, subject=user.username, detail=reason)
        return None
    if not user.is_active:
        return None
    if (now - record.last_seen_at).total_seconds() > SEEN_EVERY_SECONDS:
        with short_transactions().begin() as connection:
            connection.execute(update(UserSession).where(UserSession.id == record.id).values(last_seen_at=now))
    return user


def open_sessions(user_id: int) -> list[tuple[UserSession, bool]]:
    """The person's sessions still open (not ended, not past their idle or longest time), the most recently
    active first, each with whether it is this browser's."""
    now, config = utcnow(), settings()
    token = session.get(TOKEN_KEY)
    mine = _hash(token) if isinstance(token, str) else None
    found = db.session.scalars(select(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None),
        UserSession.last_seen_at > now - timedelta(minutes=config.session_idle_minutes),
        UserSession.created_at > now - timedelta(hours=config.session_max_hours))
        .order_by(UserSession.last_seen_at.desc())).all()
    return [(record, record.token_hash == mine) for record in found]


def end_current() -> str | None:
    """End this browser's session; the provider's ID token it began with, if any (for signing out there)."""
    token = session.get(TOKEN_KEY)
    id_token = None
    if isinstance(token, str):
        id_token = db.session.scalar(select(UserSession.id_token).where(UserSession.token_hash == _hash(token)))
        _end(UserSession.token_hash == _hash(token))
    session.clear()
    return id_token


def end_all_sessions(user_id: int, keep_current: bool = False) -> int:
    """End every open session of a user (password, role or account changed); how many were open."""
    condition = [UserSession.user_id == user_id]
    token = session.get(TOKEN_KEY) if keep_current else None
    if isinstance(token, str):
        condition.append(UserSession.token_hash != _hash(token))
    return _end(*condition)


def _end(*condition) -> int:
    with short_transactions().begin() as connection:
        return connection.execute(update(UserSession).where(UserSession.ended_at.is_(None), *condition)
                                  .values(ended_at=utcnow())).rowcount


def purge(older_than_days: int = 30) -> int:
    """Forget sessions that ended (or lapsed) long ago: they only say who signed in from where."""
    cutoff = utcnow() - timedelta(days=older_than_days)
    with short_transactions().begin() as connection:
        return connection.execute(db.delete(UserSession).where(UserSession.last_seen_at < cutoff)).rowcount
