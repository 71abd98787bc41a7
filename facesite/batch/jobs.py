"""Batch jobs as staff see them: made from a checked upload, followed by their figures, reported.
(How a job then moves from state to state is lifecycle.py's.)"""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from facesite.batch import archive, lifecycle
from facesite.batch.manifest import Plan
from facesite.batch.states import (FINISHED_ROWS, LEFT, NOT_STARTED, READING, WAITING_FOR_RUNNER, JobState, RowState,
                                   retriable)
from facesite.extensions import db
from facesite.id_numbers import mask_id_number, seal_for_batch
from facesite.models import BatchJob, BatchPicture, BatchRow, epoch, utcnow

INSERT_CHUNK = 500  # rows written per transaction while a job is made
RATE_WINDOW_SECONDS = 60
UNCLAIMED_AFTER_SECONDS = 20  # a job waiting this long with no runner gets a note saying so
NO_RUNNER = _l("No process has taken this job up yet. With REDIS_URL set, batch jobs need the Procfile's worker "
               "process running; otherwise they run inside the portal as soon as it is up.")
RESULT_COLUMNS = ("row", "faceImage", "faceSetId", "externalReferenceId", "name", "country", "idCardType",
                  "idNumber", "result", "faceId", "transactionId", "code", "message", "preparation")


def create_job(plan: Plan, upload, archive_name: str, created_by: str, face_set_id: str | None = None,
               check_duplicates: bool = False) -> BatchJob:
    """A job being checked, with one row per planned row. The uploaded ZIP is stored once, as it
    came (archive.py), and each file the sendable rows name gets one empty BatchPicture: no picture
    is read here. The background check (``runner._check_pictures``) reads, checks and copies each
    once, after which the job waits for review. Every row gets a stable externalReferenceId now, so
    that a resumed or retried row is recognisable at the vendor as the same person."""
    job = lifecycle.new_job(created_by, archive_name, face_set_id, check_duplicates)
    size = archive.store(db.engine, job.id, upload)
    write_rows(job.id, plan, {})
    lifecycle.uploaded(job, size)
    return job


def waiting_upload_bytes(created_by: str) -> int:
    """The stored ZIPs of ``created_by``'s jobs not started yet (the upload quota counts them)."""
    return db.session.scalar(db.select(func.coalesce(func.sum(BatchJob.archive_size), 0)).where(
        BatchJob.created_by == created_by, BatchJob.state.in_(NOT_STARTED)))


def write_rows(job_id: int, plan: Plan, checked: dict[str, int]) -> None:
    """The rows of ``plan``, and one BatchPicture per file its sendable rows name: ``checked`` maps the
    files whose picture was already checked (a correction) to that picture, whose rows are ready at once."""
    pictures = {planned.member: BatchPicture(job_id=job_id, member=planned.member) for planned in plan.ready
                if planned.member not in checked}
    db.session.add_all(pictures.values())
    db.session.flush()
    picture_ids = {member: picture.id for member, picture in pictures.items()} | checked
    for start in range(0, len(plan.rows), INSERT_CHUNK):
        db.session.add_all(_row(job_id, planned, None if planned.problems else picture_ids[planned.member],
                                planned.member in checked) for planned in plan.rows[start:start + INSERT_CHUNK])
        db.session.commit()


def _row(job_id: int, planned, picture_id: int | None, checked: bool = False) -> BatchRow:
    values, sendable = planned.fields, not planned.problems
    return BatchRow(
        job_id=job_id, row_number=planned.row_number, file_name=_cut(values.get("faceImage"), 255) or "",
        face_set_id=_cut(values.get("faceSetId"), 64),
        external_reference_id=_cut(values.get("externalReferenceId"), 255) or (str(uuid.uuid4()) if sendable else None),
        name=_cut(values.get("name"), 255), country=values.get("country") if sendable else None,
        id_card_type=_cut(values.get("idCardType"), 64),
        # Sealed even on a refused row: a correction on the review page needs it back (corrections.cells_of).
        id_number=seal_for_batch(values.get("idNumber") or planned.cells.get("idNumber")),
        id_number_masked=mask_id_number(values.get("idNumber")),
        state=RowState.PENDING if sendable and checked else lifecycle.first_row_state(sendable),
        message="\n".join(f"{column}: {text}" for column, text in planned.problems) or None, picture_id=picture_id,
        cells=json.dumps(without_id_number(planned.cells), ensure_ascii=False))


def without_id_number(cells: dict) -> dict:
    """A row's cells as kept: everything but the ID number, which is kept sealed on its own."""
    return {name: value for name, value in cells.items() if name != "idNumber"}


def _cut(value: str | None, longest: int) -> str | None:
    """A refused row keeps what was typed, cut to fit its column (its problem says what was wrong)."""
    return value[:longest] if value else value


def counts(job_id: int) -> dict[str, int]:
    query = db.select(BatchRow.state, func.count()).where(BatchRow.job_id == job_id).group_by(BatchRow.state)
    found = dict(db.session.execute(query).all())
    return {state: found.get(state, 0) for state in RowState}


def progress(job: BatchJob) -> dict:
    """Everything the progress bar shows, as JSON-ready values."""
    now = utcnow()
    recent, window = 0, live_window(job, now)
    if window:
        recent = db.session.scalar(db.select(func.count()).where(
            BatchRow.job_id == job.id, BatchRow.finished_at >= now - timedelta(seconds=window),
            BatchRow.state.in_(FINISHED_ROWS)))
    shown = figures(job, counts(job.id), recent, now)
    shown["retriable"] = db.session.scalar(db.select(func.count()).where(
        BatchRow.job_id == job.id, retriable(BatchRow), BatchRow.picture_id.is_not(None))) if shown["failed"] else 0
    return shown


def figures(job: BatchJob, n: dict[str, int], recent: int, now) -> dict:
    """The progress of ``job`` from its rows' counts by state (``n``) and how many rows finished in
    the last RATE_WINDOW_SECONDS (``recent``, counted only while it runs)."""
    rows = sum(n.values())
    to_send = rows - n[RowState.SKIPPED]
    finished = sum(n[state] for state in FINISHED_ROWS)
    left = sum(n[state] for state in LEFT)
    rate = _rate(job, finished, recent, now)
    waiting = max(0, round((job.wait_until - now).total_seconds())) if job.wait_until else 0
    checked = rows - n[RowState.UNCHECKED]
    if job.state in READING:  # the bar shows the photos checked so far
        percent = 100 * checked / rows if rows else 0.0
    else:
        percent = 100 * finished / to_send if to_send else 100.0
    note = job.note if job.state != JobState.FINISHED else None
    waiting_since = job.queued_at or job.started_at or job.created_at
    if job.state in WAITING_FOR_RUNNER and job.lease_owner is None and waiting_since \
            and (now - waiting_since).total_seconds() > UNCLAIMED_AFTER_SECONDS:
        note = str(NO_RUNNER)
    return {
        "id": job.id, "state": job.state, "note": note,
        "rows": rows, "checked": checked,
        "total": to_send, "done": n[RowState.DONE], "failed": n[RowState.FAILED], "unknown": n[RowState.UNKNOWN],
        "skipped": n[RowState.SKIPPED], "left": left, "sending": n[RowState.SENDING],
        "percent": round(percent, 1),
        "rate_per_second": round(rate, 2) if rate else None,
        "seconds_left": round(left / rate) if rate and left else None,
        "waiting_seconds": waiting,
    }


def live_window(job: BatchJob, now) -> float:
    """While a job runs: the seconds its rate is measured over, the last RATE_WINDOW_SECONDS of the run
    under way (since its start, resume or retry: never time spent waiting or paused); else 0."""
    if job.state != JobState.RUNNING:
        return 0.0
    if job.run_started is not None:
        return min(RATE_WINDOW_SECONDS, max(0.0, epoch(now) - job.run_started))
    return min(RATE_WINDOW_SECONDS, (now - job.started_at).total_seconds()) if job.started_at else 0.0


def sending_seconds(job: BatchJob, now) -> float | None:
    """How long the job was really sending: its past runs and the one under way (None for a job from
    before this was counted)."""
    if job.run_seconds is None and job.run_started is None:
        return None
    return (job.run_seconds or 0.0) + (max(0.0, epoch(now) - job.run_started) if job.run_started is not None else 0.0)


def _rate(job: BatchJob, finished: int, recent: int, now) -> float | None:
    """Rows finished per second of sending: over the last minute of the run while it runs, else over
    all the time it was sending (so neither a pause nor the days before a retry count)."""
    if job.state == JobState.RUNNING:
        window = live_window(job, now)
        return recent / window if window >= 1 and recent else None
    seconds = sending_seconds(job, now)
    if seconds is None and job.state == JobState.FINISHED and job.started_at and job.finished_at:
        seconds = (job.finished_at - job.started_at).total_seconds()  # an older job: from start to finish
    return finished / seconds if seconds and seconds >= 1 and finished else None


def result_rows(job: BatchJob):
    """The results, one list per manifest row, in RESULT_COLUMNS order (never a full ID number)."""
    query = (db.select(BatchRow).where(BatchRow.job_id == job.id).order_by(BatchRow.row_number, BatchRow.id)
             .execution_options(yield_per=500))
    for row in db.session.scalars(query):
        yield [row.row_number, row.file_name, row.face_set_id or "", row.external_reference_id or "",
               row.name or "", row.country or "", row.id_card_type or "", row.id_number_masked or "", row.state,
               row.face_id or "", row.transaction_id or "", row.code or "", (row.message or "").replace("\n", "; "),
               row.preparation or ""]
