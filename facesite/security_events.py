"""The security log: who signed in, who changed an account or a setting, and from where.

Each event is written in its own short transaction, so a request that later rolls back
(a failed form, an error page) still leaves its trace, and a failure to write is logged
rather than raised: the security log must never break the action it records.
"""
from __future__ import annotations

import logging

from flask import has_request_context, request
from flask_login import current_user

from facesite.extensions import short_transactions
from facesite.models import SecurityEvent, utcnow

log = logging.getLogger(__name__)

EVENTS = ("sign_in", "sign_in_failed", "locked_out", "sign_out", "password_changed", "session_expired",
          "user_created", "user_changed", "role_changed", "user_disabled", "user_enabled", "user_removed",
          "unlocked", "reset_link_made", "password_reset", "setting_changed", "face_set_changed", "csv_export",
          "access_denied", "second_factor_on", "second_factor_reset", "second_factor_failed", "recovery_code_used",
          "recovery_codes_made")

# Column widths in the security_events table; longer text is cut rather than refused.
_ACTOR_MAX = 254
_SUBJECT_MAX = 254
_ADDRESS_MAX = 64
_DETAIL_MAX = 2000


def _signed_in_username() -> str | None:
    if not has_request_context():
        return None
    try:
        if current_user and current_user.is_authenticated:
            return current_user.username
    except Exception:  # no login manager, or the user row is gone: record the event without an actor
        log.debug("no signed-in user for a security event", exc_info=True)
    return None


def _cut(text: str | None, limit: int) -> str | None:
    return None if text is None else str(text)[:limit]


def record(event: str, *, subject: str | None = None, detail: str | None = None,
           actor: str | None = None) -> None:
    """Write one security event; never raises into the caller."""
    try:
        if event not in EVENTS:
            raise ValueError(f"unknown security event {event!r}")
        row = {
            "at": utcnow(),
            "event": event,
            "actor": _cut(actor if actor is not None else _signed_in_username(), _ACTOR_MAX),
            "subject": _cut(subject, _SUBJECT_MAX),
            "address": _cut(request.remote_addr, _ADDRESS_MAX) if has_request_context() else None,
            "detail": _cut(detail, _DETAIL_MAX),
        }
        with short_transactions().begin() as connection:
            connection.execute(SecurityEvent.__table__.insert().values(**row))
    except Exception:
        log.exception("could not record security event %s (subject %s)", event, subject)
