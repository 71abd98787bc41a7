"""What happened to one batch row's call, written with single conditional statements (safe across runners).

A row is claimed (``pending`` to ``sending``) right before its call; its outcome is then
``done``, ``failed``, ``unknown`` (the call may have reached the vendor) or back to ``pending``
(the vendor asked to wait, the account needs fixing, or nothing reached the vendor yet).
``after_error`` decides which, and whether the whole job waits or pauses (through its gate).
Changes of a job's state, and of many rows at once, are lifecycle.py's."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import delete, select, update

from facesite.advance import TransportError, TransportFailure, VendorError
from facesite.batch.states import SENT, UNSENT, RowState  # noqa: F401  (UNSENT: the runner names it from here)
from facesite.extensions import db
from facesite.faces import Enrolled, PersonDetails, explain, unsure
from facesite.id_numbers import unseal_for_batch
from facesite.models import BatchPicture, BatchRow, utcnow

# The vendor asks to slow down: the row goes back to the queue and the job waits.
BUSY_CODES = ("SERVICE_BUSY", "RETRY_LATER")
# Every further row would fail the same way: the job pauses until someone fixes the account.
ACCOUNT_CODES = ("IAM_FAILED", "ACCOUNT_DISABLED", "INSUFFICIENT_BALANCE", "OVER_QUERY_LIMIT")
BUSY_WAIT_SECONDS = 10  # when the vendor says busy without a Retry-After
MAX_UNSENT_ATTEMPTS = 5  # connection failures (nothing reached the vendor) before a row is given up
UNKNOWN_AFTER_RESTART = _l("The portal stopped while this row was being sent, so the vendor may or may not have "
                            "added the face. Search the face set for this row's person (by its reference) "
                            "before sending it again.")


def person(row: BatchRow) -> PersonDetails:
    """The details a row is enrolled with."""
    return PersonDetails(row.external_reference_id, row.name, unseal_for_batch(row.id_number), row.id_card_type,
                         row.country)


def claim(row_id: int) -> bool:
    """Move a row from pending to sending, right before its call; False when another runner got there first."""
    with db.engine.begin() as connection:
        claimed = connection.execute(update(BatchRow).where(BatchRow.id == row_id, BatchRow.state == RowState.PENDING)
                                     .values(state=RowState.SENDING, attempts=BatchRow.attempts + 1))
    return claimed.rowcount == 1


def finish(row_id: int, values: dict, states: tuple = SENT) -> None:
    """Record a row's outcome, if the row is still in one of ``states``."""
    with db.engine.begin() as connection:
        connection.execute(update(BatchRow).where(BatchRow.id == row_id, BatchRow.state.in_(states)).values(**values))


def finish_enrolled(row_id: int, values: dict, picture_id: int | None) -> None:
    """Record an enrolment; the row's picture goes too once no other row of the job still needs it."""
    with db.engine.begin() as connection:
        connection.execute(update(BatchRow).where(BatchRow.id == row_id, BatchRow.state.in_(SENT)).values(**values))
        if picture_id is not None:
            drop_unused_pictures(connection, [picture_id])


def drop_unused_pictures(connection, picture_ids) -> int:
    """Delete those pictures that no row points to any more (a row lets go of its picture once it
    is enrolled or skipped; retries and resends need it until then)."""
    needed = select(BatchRow.id).where(BatchRow.picture_id == BatchPicture.id).exists()
    return connection.execute(delete(BatchPicture).where(BatchPicture.id.in_(picture_ids), ~needed)).rowcount


def failed(code: str, message: str, transaction_id: str | None = None) -> dict:
    return {"state": RowState.FAILED, "code": code, "message": message, "transaction_id": transaction_id,
            "finished_at": utcnow()}


def held(code: str, message: str, match_register_id: int | None = None) -> dict:
    """Not enrolled: a person checks first (several faces in the picture, or a likely duplicate)."""
    return {"state": RowState.UNKNOWN, "code": code, "message": message, "finished_at": utcnow(),
            "match_register_id": match_register_id}


def enrolled(result: Enrolled) -> dict:
    # The picture and the full ID number were kept only to send them: let go of them now. The vendor's
    # note (e.g. several faces, where nothing could tell before) stays in the results.
    return {"state": RowState.DONE, "face_id": result.face_id, "transaction_id": result.transaction_id,
            "code": "SUCCESS", "message": result.note, "preparation": result.preparation,
            "register_id": result.register_id, "finished_at": utcnow(), "picture_id": None, "id_number": None}


def unknown_after_restart(now) -> dict:
    return {"state": RowState.UNKNOWN, "code": "UNKNOWN", "finished_at": now,
            "message": str(UNKNOWN_AFTER_RESTART)}


def back_to_queue(uncount: bool = True) -> dict:
    values = {"state": RowState.PENDING}
    if uncount:  # a refusal to even look at the row is not an attempt
        values["attempts"] = BatchRow.attempts - 1
    return values


def after_error(error, sent: PersonDetails, gate, attempts: int) -> dict:
    """The row's new values after a failed call; may make the whole job wait or pause."""
    problem = explain(error, reference=sent.external_reference_id)
    if isinstance(error, VendorError):
        code = error.response.code
        if code in BUSY_CODES:
            wait = error.response.retry_after or BUSY_WAIT_SECONDS
            gate.hold(wait, _("The vendor is busy (%(code)s): waiting %(seconds)s s as it asked, then going on.",
                             code=code, seconds=wait))
            return back_to_queue()
        if code in ACCOUNT_CODES or error.step == "token":
            gate.stop(_("Paused by the portal: %(what)s %(advice)s (vendor code %(code)s: %(message)s). Resume once it "
                        "is fixed.", what=problem.title, advice=problem.advice, code=code,
                        message=error.response.message))
            return back_to_queue()
        return failed(code, error.response.message or problem.title, error.response.transaction_id)
    assert isinstance(error, TransportError)
    if error.kind == TransportFailure.RATE_LIMITED:
        wait = error.retry_after or BUSY_WAIT_SECONDS
        gate.hold(wait, _("The vendor is busy (HTTP 429): waiting %(seconds)s s as it asked, then going on.",
                          seconds=wait))
        return back_to_queue()
    if not error.may_have_reached:
        if attempts < MAX_UNSENT_ATTEMPTS:
            gate.hold(2 ** attempts, problem.title + " " + _("Trying again in %(seconds)s s.", seconds=2 ** attempts))
            return back_to_queue(uncount=False)
        return failed(error.kind.audit_code, f"{problem.title} {problem.advice}")
    return {"state": RowState.UNKNOWN, "code": error.kind.audit_code, "finished_at": utcnow(),
            "message": f"{problem.title} " + unsure(sent.external_reference_id)}
