"""Slowing down password guessing without handing anyone a way to lock a real user out.

Every sign-in attempt is counted *before* the password is checked, in one conditional UPDATE, so
parallel guesses cannot race past the limit: after LOGIN_MAX_FAILURES attempts in a row that did not
succeed, further attempts under the same key are refused unchecked for LOGIN_LOCK_MINUTES (from the
failure that used the last try). Each failure says how many tries are left under its key.

The key is where the design keeps real users in:

- an attempt from a browser that has signed in to that account before (it holds a signed device
  cookie naming the account) counts against that browser alone;
- any other attempt counts against the account name, hashed, whether or not such an account
  exists, so the answers (and the work done) are the same for real and made-up names.

So an attacker who hammers ``admin`` locks out only strangers trying ``admin``; the administrator's
own browser still signs in. A stolen laptop's device cookie is itself limited the same way.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from facesite.config import settings
from facesite.extensions import db, short_transactions
from facesite.models import SignInThrottle, utcnow

DEVICE_COOKIE = "facesite_device"
DEVICE_COOKIE_DAYS = 180


def account_key(username: str) -> str:
    return "account:" + hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()


def _devices() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings().secret_key, salt="facesite-known-device")


def new_device_cookie(username: str, previous: str | None) -> str:
    """The cookie a browser gets on signing in; a browser that already had one for this account keeps its id."""
    device = device_key(previous, username)
    device_id = device.split(":", 1)[1] if device else secrets.token_urlsafe(16)
    return _devices().dumps({"u": username.strip().lower(), "d": device_id})


def device_key(cookie: str | None, username: str) -> str | None:
    """The throttle key of a browser that signed in to ``username`` before, or None."""
    if not cookie or len(cookie) > 512:
        return None
    try:
        value = _devices().loads(cookie, max_age=DEVICE_COOKIE_DAYS * 86400)
    except BadSignature:
        return None
    if not isinstance(value, dict) or value.get("u") != username.strip().lower() or not value.get("d"):
        return None
    return f"device:{value['d']}"[:96]


def attempt(key: str, limit: int, lock_minutes: int) -> int:
    """Count one attempt under ``key``. 0: go ahead and check the password; else the seconds the key
    stays locked. Safe under any number of concurrent callers (each step is one conditional UPDATE)."""
    now = utcnow()
    table = SignInThrottle.__table__
    for _ in range(3):
        with short_transactions().begin() as connection:
            counted = connection.execute(update(table).where(
                table.c.key == key, table.c.attempts < limit,
                or_(table.c.locked_until.is_(None), table.c.locked_until <= now)).values(attempts=table.c.attempts + 1))
            if counted.rowcount:
                return 0
            # A lock that has run out: the count starts again with this attempt.
            renewed = connection.execute(update(table).where(table.c.key == key, table.c.locked_until <= now)
                                         .values(attempts=1, locked_until=None))
            if renewed.rowcount:
                return 0
            # At the limit: the first refused attempt starts the lock. (The limit is checked again: the row
            # may have been made by another attempt since the first statement looked.)
            connection.execute(update(table).where(table.c.key == key, table.c.locked_until.is_(None),
                                                   table.c.attempts >= limit)
                               .values(locked_until=now + timedelta(minutes=lock_minutes)))
            locked_until = connection.execute(select(table.c.locked_until).where(table.c.key == key)).scalar()
        if locked_until is not None:
            return max(1, int((locked_until - now).total_seconds()))
        try:
            with short_transactions().begin() as connection:
                connection.execute(insert(table).values(key=key, attempts=1, locked_until=None))
            return 0
        except IntegrityError:  # another attempt made the row first: count against it
            continue
    # Every round lost a race with a row that vanished: only a successful sign-in (or an administrator's
    # unlock) deletes a count, so this happens when staff sign in to one account at the same moment. None
    # of them gave a wrong password: let the password be checked, as it always is.
    return 0


def failed(key: str, limit: int, lock_minutes: int) -> int:
    """After a wrong password under ``key``: how many tries are left. The failure that used the last one
    starts the lock at once, so "locked for N minutes" holds from now (not from the next attempt)."""
    table = SignInThrottle.__table__
    now = utcnow()
    with short_transactions().begin() as connection:
        connection.execute(update(table).where(table.c.key == key, table.c.attempts >= limit,
                                               table.c.locked_until.is_(None))
                           .values(locked_until=now + timedelta(minutes=lock_minutes)))
        attempts = connection.execute(select(table.c.attempts).where(table.c.key == key)).scalar()
    return max(0, limit - (attempts or 0))


def succeeded(key: str) -> None:
    with short_transactions().begin() as connection:
        connection.execute(delete(SignInThrottle.__table__).where(SignInThrottle.__table__.c.key == key))


def clear(username: str) -> None:
    """An administrator unlocks an account name for everyone (its browsers' own counts stay)."""
    succeeded(account_key(username))


def locked_names(usernames) -> set[str]:
    """Which of these account names are held right now (one query for a whole list)."""
    by_key = {account_key(name): name for name in usernames}
    keys = db.session.scalars(select(SignInThrottle.key).where(SignInThrottle.key.in_(by_key),
                                                               SignInThrottle.locked_until > utcnow()))
    return {by_key[key] for key in keys}


def purge(now) -> int:
    """Forget counts that hold no lock (made-up names pile up otherwise); a held lock stays until it ends."""
    table = SignInThrottle.__table__
    with short_transactions().begin() as connection:
        return connection.execute(delete(table).where(or_(table.c.locked_until.is_(None),
                                                          table.c.locked_until < now))).rowcount
