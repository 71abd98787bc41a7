"""Running a batch job: rows sent to the vendor, BATCH_CONCURRENCY at a time, safely resumable.

Safety rests on two conditional updates:

- a runner holds the job by a lease it renews while it works; a lease that ran
  out means its runner died, and whoever takes the job over marks the rows that
  runner had in flight as ``unknown`` (they may have reached the vendor), never
  re-sending them;
- a row is claimed by moving it from ``pending`` to ``sending`` in one statement,
  right before its call, so two runners never send the same row and a row that
  was never sent is never marked ``unknown``.

Each row gets the same treatment as a form: preparation, the image rules, the
audit trail (as the member of staff who last started, resumed or retried the job) and the register.
"""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import update

from facesite import request_ids
from facesite.batch import lifecycle, row_checks, row_outcomes as row_outcome
from facesite.batch.checking import check_pictures
from facesite.batch.language import speaking_to
from facesite.batch.lease import Lease, LeaseOwner
from facesite.batch.states import RUNNABLE, JobState, RowState
from facesite.config import settings
from facesite.extensions import db
from facesite.faces import Refused, enrol
from facesite.models import BatchJob, BatchPicture, BatchRow, utcnow
from facesite.pictures import image_rules
from facesite.pictures.sending import picture_to_send

log = logging.getLogger(__name__)

STATE_CHECK_SECONDS = 0.5  # how soon a runner notices a pause


class VendorGate:
    """How a job's threads share the vendor: at most BATCH_CONCURRENCY calls in flight; when the
    vendor says "busy", every thread waits until the time it asked for; when the job halts
    (paused by staff, or the vendor refused the account) no further call is made."""

    def __init__(self, job_id: int, concurrency: int):
        self.job_id = job_id
        self.calls = threading.BoundedSemaphore(concurrency)
        self.until = 0.0
        self.lock = threading.Lock()
        self.halted = threading.Event()

    @contextmanager
    def call_slot(self):
        """Yields True when the call may be made now, False when the job is halting (the row stays pending)."""
        with self.calls:
            while self.remaining() and not self.halted.is_set():
                time.sleep(min(self.remaining(), STATE_CHECK_SECONDS))
            yield not self.halted.is_set()

    def stop(self, note: str) -> None:
        lifecycle.pause_for_account(self.job_id, note)
        self.halted.set()  # after the database says "paused": a fresh read after this sees it

    def hold(self, seconds: float, note: str) -> None:
        with self.lock:
            self.until = max(self.until, time.monotonic() + seconds)
        with db.engine.begin() as connection:
            connection.execute(update(BatchJob).where(BatchJob.id == self.job_id).values(
                wait_until=utcnow() + timedelta(seconds=seconds), note=note))

    def remaining(self) -> float:
        return max(0.0, self.until - time.monotonic())


def run_job(app: Flask, job_id: int, owner: LeaseOwner | None = None, stopping: threading.Event | None = None) -> bool:
    """Check a new job's pictures, or send a started job's pending rows until none is left or staff
    pause it. False when another runner holds the job. Once ``stopping`` is set (this process's
    BatchScheduler sets it as the process is asked to stop), the calls in flight finish and the job is
    handed back."""
    owner = owner or LeaseOwner.here()
    stopping = stopping or threading.Event()
    with app.app_context(), request_ids.bound(f"job-{job_id}"), speaking_to(_job_owner(job_id)):
        if not lifecycle.take_over(job_id, owner, settings(app).batch_lease_seconds):
            return False
        lease = Lease(app, job_id, owner)
        lease.start()
        try:
            if _job_state(job_id) == JobState.CHECKING:
                _check_pictures(app, job_id, lease, stopping)
            else:
                _send_rows(app, job_id, lease, stopping)
        finally:
            lease.stopped.set()
            lifecycle.hand_back(job_id, owner)
    return True


def _send_rows(app: Flask, job_id: int, lease: Lease, stopping: threading.Event) -> None:
    concurrency = settings(app).batch_concurrency
    # Twice as many rows in hand as calls in flight: while some wait on the vendor, others are
    # prepared and recorded, so a call slot never waits on the portal's own work. A row in hand
    # stays "pending" until its call starts: if the process dies first, it was never sent.
    size = 2 * concurrency
    slots = threading.BoundedSemaphore(size)
    gate = VendorGate(job_id, concurrency)
    job = db.session.get(BatchJob, job_id)
    username = job.started_by or job.created_by  # audited as whoever last started it (older jobs: its creator)
    in_hand: set[int] = set()
    queue: list[int] = []
    looked_at, state = 0.0, None

    def done(row_id):
        in_hand.discard(row_id)
        slots.release()

    with ThreadPoolExecutor(size, thread_name_prefix=f"batch-{job_id}") as pool:
        while not lease.lost.is_set():
            if stopping.is_set():
                gate.halted.set()
                _wait_for_all(slots, size)
                return
            # Staff may pause at any time: look at the job's state at most every STATE_CHECK_SECONDS.
            if time.monotonic() - looked_at >= STATE_CHECK_SECONDS:
                # Who is audited follows the last person to start, resume, retry or resend it.
                looked_at, (state, username) = time.monotonic(), _job_look(job_id, username)
            if gate.halted.is_set() or state not in RUNNABLE:
                gate.halted.set()  # rows in hand give their turn back
                _wait_for_all(slots, size)
                if _job_state(job_id) not in RUNNABLE:
                    return  # paused (by staff, or on an account problem)
                gate.halted.clear()  # resumed meanwhile
                looked_at = 0.0
                continue
            if gate.remaining():
                time.sleep(min(gate.remaining(), STATE_CHECK_SECONDS))
                continue
            if not queue:
                queue = [row_id for row_id in _pending_ids(job_id) if row_id not in in_hand]
                if not queue:
                    _wait_for_all(slots, size)
                    if not _pending_ids(job_id) and lifecycle.finish_if_done(job_id):
                        return
                    continue
            if not slots.acquire(timeout=STATE_CHECK_SECONDS):
                continue
            row_id = queue.pop(0)
            in_hand.add(row_id)
            future = pool.submit(_send_one, app, row_id, username, gate)
            future.add_done_callback(lambda _, row_id=row_id: done(row_id))


def _check_pictures(app: Flask, job_id: int, lease: Lease, stopping: threading.Event) -> None:
    """Read, check and copy once each picture a job just uploaded names (checking.py); a picture
    that fails skips its rows, with the reason. Stops when the lease is lost or the process stops."""
    check_pictures(app, job_id, lambda: lease.lost.is_set() or stopping.is_set())


def _job_owner(job_id: int) -> str | None:
    """Whom a job's words are written for: whoever last started it, else its uploader."""
    job = db.session.get(BatchJob, job_id)
    return (job.started_by or job.created_by) if job else None


def _job_state(job_id: int) -> str | None:
    return _job_look(job_id, None)[0]


def _job_look(job_id: int, sender: str | None) -> tuple[str | None, str | None]:
    """The job's state and whom its calls are made for now (``sender`` when the job is gone)."""
    found = db.session.execute(db.select(BatchJob.state, BatchJob.started_by, BatchJob.created_by)
                               .where(BatchJob.id == job_id)).first()
    db.session.commit()  # end the read transaction: the next look must see other writers
    return (found.state, found.started_by or found.created_by) if found else (None, sender)


def _wait_for_all(slots: threading.BoundedSemaphore, size: int) -> None:
    """Block until no row is in hand."""
    for _slot in range(size):
        slots.acquire()
    for _slot in range(size):
        slots.release()


def _pending_ids(job_id: int) -> list[int]:
    query = (db.select(BatchRow.id).where(BatchRow.job_id == job_id, BatchRow.state == RowState.PENDING)
             .order_by(BatchRow.id).limit(200))
    ids = list(db.session.scalars(query))
    db.session.commit()
    return ids


def _send_one(app: Flask, row_id: int, username: str, gate: VendorGate) -> None:
    # No request here: the row's own id goes on its log lines and its audit row (request_ids.py).
    # The audit identity is enrol()'s to set (by=username).
    with app.app_context(), request_ids.bound(f"job-{gate.job_id}-row-{row_id}"), speaking_to(username):
        try:
            _enrol_row(row_id, username, gate)
        except Exception:  # never lose the row: a bug here must not leave it "sending" forever
            log.exception("batch row %s failed unexpectedly", row_id)
            row_outcome.finish(row_id, row_outcome.failed("PORTAL_ERROR", _("The portal failed on this row; "
                                                             "its log has the details. Retry it.")),
                               states=row_outcome.UNSENT + row_outcome.SENT)


def _enrol_row(row_id: int, username: str, gate: VendorGate) -> None:
    found = db.session.execute(db.select(BatchRow, BatchPicture.data, BatchJob.check_duplicates).outerjoin(
        BatchPicture, BatchPicture.id == BatchRow.picture_id).join(BatchJob, BatchJob.id == BatchRow.job_id)
        .where(BatchRow.id == row_id)).first()
    if found is None or found[0].state != RowState.PENDING:
        return  # another runner took it (only while a job changes hands)
    row, original, check_duplicates = found
    face_set_id, attempts, person, picture_id = row.face_set_id, row.attempts, row_outcome.person(row), row.picture_id
    checked = row.checked
    if original is None:
        row_outcome.finish(row_id, row_outcome.failed("NO_PICTURE", _("The picture is no longer kept: upload "
                                                        "this row again in a new batch.")), states=row_outcome.UNSENT)
        return
    try:
        picture = picture_to_send(original)
    except image_rules.ImageRuleError as error:
        row_outcome.finish(row_id, row_outcome.failed("PICTURE", str(error)), states=row_outcome.UNSENT)
        return
    db.session.close()  # no pooled connection held while waiting for a call slot and the vendor
    with gate.call_slot() as go:
        if not go or not row_outcome.claim(row_id):  # halting (it waits for the resume), or taken
            return
        # Several faces, or a likely duplicate: held for a person. Asked once: a row sent again passed
        # the checks already, or was sent again by the person who looked at it.
        if not checked:
            held = row_checks.before_enrolling(face_set_id, picture, person, by=username,
                                               check_duplicates=check_duplicates, gate=gate, attempts=attempts + 1)
            if held is not None:
                row_outcome.finish(row_id, held)
                return
            row_outcome.finish(row_id, {"checked": True})
        outcome = enrol(face_set_id, person, picture, by=username)
        if isinstance(outcome, Refused):
            # Decided while holding the slot: a "busy" or an account refusal holds back the next call.
            row_outcome.finish(row_id, row_outcome.after_error(outcome.error, person, gate, attempts + 1))
            return
    row_outcome.finish_enrolled(row_id, row_outcome.enrolled(outcome), picture_id)
