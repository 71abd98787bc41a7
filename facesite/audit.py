"""The audit trail: every vendor call recorded before it is sent and completed after.

``AuditTrail`` is the vendor client's observer. It writes through its own short
database sessions, so a record is committed whatever the request does next, and
a call whose process dies mid-way still leaves its "started" row.
"""
from __future__ import annotations

import logging

from flask import has_request_context
from flask_login import current_user
from sqlalchemy.orm import Session

from facesite.extensions import db
from facesite.models import VendorCall, utcnow

log = logging.getLogger(__name__)


def mask_id_number(value: str | None) -> str | None:
    """Keep the last four characters only: enough to tell records apart, not to misuse them."""
    if not value:
        return None
    return "••••" + value[-4:] if len(value) > 4 else "••••"


def acting_user() -> str | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user.username
    return None


class AuditTrail:
    def __init__(self, app):
        with app.app_context():
            self.engine = db.engine

    def _session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def started(self, step: str, fields: dict) -> int:
        username = acting_user()
        if has_request_context():
            # The vendor may take seconds: give the request's pooled database connection back
            # now rather than hold it idle through the call (objects already loaded stay usable).
            db.session.close()
        record = VendorCall(username=username, call=step, face_set_id=fields.get("faceSetId"),
                            external_reference_id=fields.get("externalReferenceId"),
                            id_number_masked=mask_id_number(fields.get("idNumber")))
        # If this cannot be written the call is not made: no vendor call goes unaccounted for.
        with self._session() as session:
            session.add(record)
            session.commit()
            return record.id

    def finished(self, record_id: int, answer, error, latency_ms: float) -> None:
        try:
            with self._session() as session:
                record = session.get(VendorCall, record_id)
                record.finished_at = utcnow()
                record.latency_ms = round(latency_ms)
                if answer is not None:
                    record.outcome_code = answer.code
                    record.outcome_message = answer.message
                    record.transaction_id = answer.transaction_id
                    record.pricing_strategy = answer.pricing_strategy
                    record.http_status = answer.http_status
                else:
                    record.outcome_code = f"TRANSPORT_{error.kind.upper()}" if error else "INTERRUPTED"
                    record.outcome_message = error.detail if error else "the call was interrupted"
                    record.http_status = getattr(error, "http_status", None)
                session.commit()
        except Exception:  # the vendor's answer matters more than its record: keep going, loudly
            log.exception("could not complete audit record %s", record_id)
