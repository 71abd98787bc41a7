"""The audit trail: every vendor call recorded before it is sent and completed after.

``AuditTrail`` is the vendor client's observer. It writes through its own short
database sessions, so a record is committed whatever the request does next, and
a call whose process dies mid-way still leaves its "started" row.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import insert, update

from facesite import metrics, request_ids
from facesite.extensions import short_transactions
from facesite.id_numbers import mask_id_number
from facesite.models import VendorCall, utcnow

log = logging.getLogger(__name__)


# Who background work (a batch job) acts for: there is no request, hence no current_user.
_acting_for: ContextVar[str | None] = ContextVar("acting_for", default=None)


@contextmanager
def acting_for(username: str):
    """Record the vendor calls made inside this block as made by ``username``."""
    token = _acting_for.set(username)
    try:
        yield
    finally:
        _acting_for.reset(token)


def acting_user() -> str | None:
    named = _acting_for.get()
    if named is None and has_request_context() and current_user and current_user.is_authenticated:
        return current_user.username
    return named


class AuditTrail:
    """Writes with single SQL statements in their own short transactions (no ORM session):
    cheap on the hot path, and independent of whatever the request is doing."""

    def __init__(self, app):
        with app.app_context():
            self.engine = short_transactions()

    def started(self, step: str, fields: dict) -> tuple[int, str]:
        """The handle ``finished`` gets back: the record's id and the call."""
        username = acting_user()
        # The request id (or a batch row's) leads from an error page to the log lines and to this row.
        row = {"username": username, "call": step, "face_set_id": fields.get("faceSetId"),
               "external_reference_id": fields.get("externalReferenceId"),
               "id_number_masked": mask_id_number(fields.get("idNumber")), "request_id": request_ids.current()}
        # If this cannot be written the call is not made: no vendor call goes unaccounted for.
        with self.engine.begin() as connection:
            return connection.execute(insert(VendorCall).values(**row).returning(VendorCall.id)).scalar_one(), step

    def token_refreshed(self, succeeded: bool) -> None:
        metrics.count_token_refresh(succeeded)

    def finished(self, handle: tuple[int, str], answer, error, latency_ms: float) -> None:
        """Every vendor call ends here once, whatever happened: the audit row and the metrics."""
        record_id, step = handle
        outcome = {"finished_at": utcnow(), "latency_ms": round(latency_ms)}
        if answer is not None:
            outcome.update(outcome_code=answer.code, outcome_message=answer.message,
                           transaction_id=answer.transaction_id, pricing_strategy=answer.pricing_strategy,
                           http_status=answer.http_status)
        else:
            outcome.update(outcome_code=error.kind.audit_code if error else "INTERRUPTED",
                           outcome_message=error.detail if error else "the call was interrupted",
                           http_status=getattr(error, "http_status", None))
        metrics.count_vendor_call(step, outcome["outcome_code"], outcome.get("pricing_strategy"), latency_ms / 1000)
        try:
            with self.engine.begin() as connection:
                connection.execute(update(VendorCall).where(VendorCall.id == record_id).values(**outcome))
        except Exception:  # the vendor's answer matters more than its record: keep going, loudly
            log.exception("could not complete audit record %s", record_id)
