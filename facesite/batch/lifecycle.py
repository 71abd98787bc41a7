"""Every change of a batch job's state, and of its rows' states in bulk, in the order a job lives them.

    job state           becomes            by                      when
    uploading           checking           uploaded                every row is written
    checking            review             ready_for_review        every picture is checked
    review              uploading          reopen                  staff correct rows (then checking again)
    review              queued             start                   staff start it (the stored ZIP goes)
    uploading, checking, review  (deleted)  discard                staff throw it away (nothing was sent)
    queued              running            take_over               a runner takes its lease
    queued, running     paused             pause                   staff pause it
    queued, running     paused             pause_for_account       the vendor refused the account
    paused              queued             resume                  staff resume it
    running             finished           finish_if_done          no row is pending or sending
    finished, paused    queued             retry_failed            staff retry the failed rows
    finished            queued             resend_unknown          staff send an ``unknown`` row again
    not started         review             purge_unstarted         the purge (retention.py)
    paused, queued, running  finished      purge_unsendable        the purge (retention.py)

Rows: written ``unchecked`` (or ``skipped`` with the upload's problem); their picture's check makes
them ``pending`` or ``skipped``; a runner sends each ``pending`` → ``sending`` → ``done``, ``failed``
or ``unknown``, or back to ``pending`` (row_outcomes.py: one row's call). A runner taking over a job
marks the rows left ``sending`` by the one before it ``unknown``: they may have reached the vendor,
and are never sent again unless staff, having checked, resend them. A runner that stops (a deploy)
hands the job back without changing its state: the next runner resumes it.

Each change is one conditional statement, so that staff, runners and sweepers of any number of
processes never undo each other's work: a change that no longer applies changes nothing.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import case, delete, func, update

from facesite.batch import row_outcomes
from facesite.batch.lease import LeaseOwner, is_free, runs_out
from facesite.batch.states import (LEFT, NEEDS_RUNNER, NOT_STARTED, RUNNABLE, STILL_TO_SEND, JobState, RowState,
                                   retriable)
from facesite.extensions import db
from facesite.models import BatchJob, BatchPicture, BatchRow, BatchUploadChunk, epoch, utcnow

# -- uploading, checking, review -----------------------------------------------------------------


def new_job(created_by: str, archive_name: str, face_set_id: str | None = None,
            check_duplicates: bool = False) -> BatchJob:
    """A job whose rows are being written: no runner may check (and pass) it until ``uploaded``."""
    job = BatchJob(created_by=created_by, archive_name=archive_name[:255] or "upload.zip", state=JobState.UPLOADING,
                   face_set_id=face_set_id, check_duplicates=check_duplicates)
    db.session.add(job)
    db.session.commit()
    return job


def first_row_state(sendable: bool) -> RowState:
    """A row the upload's checks passed waits for its picture's check; any other is skipped."""
    return RowState.UNCHECKED if sendable else RowState.SKIPPED


def uploaded(job: BatchJob, archive_size: int) -> None:
    """Every row is in: the job's pictures may be checked."""
    job.state, job.archive_size = JobState.CHECKING, archive_size
    db.session.commit()


def picture_passed(connection, picture_id: int) -> None:
    connection.execute(update(BatchRow).where(*_waiting_for(picture_id)).values(state=RowState.PENDING))


def picture_refused(connection, picture_id: int, message: str) -> None:
    # The sealed ID number stays while the job is under review (a correction needs it); it goes at start.
    connection.execute(update(BatchRow).where(*_waiting_for(picture_id)).values(
        state=RowState.SKIPPED, message=message, picture_id=None))


def _waiting_for(picture_id: int) -> tuple:
    return BatchRow.picture_id == picture_id, BatchRow.state == RowState.UNCHECKED


def ready_for_review(job_id: int, unchecked_message: str) -> None:
    """Every picture is checked (a row still unchecked lost its picture: it is skipped, saying why)."""
    with db.engine.begin() as connection:
        connection.execute(update(BatchRow).where(BatchRow.job_id == job_id, BatchRow.state == RowState.UNCHECKED)
                           .values(state=RowState.SKIPPED, message=unchecked_message, picture_id=None))
        connection.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.state == JobState.CHECKING)
                           .values(state=JobState.REVIEW))


def reopen(job: BatchJob) -> bool:
    """Staff correct rows under review: the job is written again (``uploaded`` follows, and the check of
    any picture not checked yet). False when it was started or discarded meanwhile."""
    return _move(job, (JobState.REVIEW,), JobState.UPLOADING)


# ``started_by``: whoever clicked start, resume, retry or resend. The runner makes its vendor calls in
# their name (the audit trail says who sent them), which need not be the job's creator.

def start(job: BatchJob, started_by: str) -> bool:
    """Sent as it stands: no more corrections, so the stored ZIP, the rows' cells as uploaded and the sealed
    ID numbers of the rows that will not be sent go."""
    started = _move(job, (JobState.REVIEW,), JobState.QUEUED, started_at=utcnow(), started_by=started_by,
                    archive_size=None)
    if started:
        with db.engine.begin() as connection:
            connection.execute(delete(BatchUploadChunk).where(BatchUploadChunk.job_id == job.id))
            connection.execute(update(BatchRow).where(BatchRow.job_id == job.id).values(cells=None))
            connection.execute(update(BatchRow).where(BatchRow.job_id == job.id, BatchRow.state == RowState.SKIPPED)
                               .values(id_number=None))
    return started


# -- a runner takes the job, runs it, hands it back ----------------------------------------------

def take_over(job_id: int, owner: LeaseOwner, lease_seconds: float) -> bool:
    """Hold the job if it needs a runner and its lease is free (lease.py); a queued job is then
    running. Rows the previous holder had in flight become ``unknown``: they may have reached the vendor."""
    now = utcnow()
    with db.engine.begin() as connection:
        checking = BatchJob.state == JobState.CHECKING
        taken = connection.execute(
            update(BatchJob).where(BatchJob.id == job_id, BatchJob.state.in_(NEEDS_RUNNER), is_free(now))
            .values(lease_owner=str(owner), lease_until=runs_out(now, lease_seconds),
                    state=case((checking, JobState.CHECKING), else_=JobState.RUNNING),
                    run_started=case((checking, BatchJob.run_started),
                                     else_=func.coalesce(BatchJob.run_started, epoch(now)))))
        if taken.rowcount != 1:
            return False
        connection.execute(update(BatchRow).where(BatchRow.job_id == job_id, BatchRow.state == RowState.SENDING)
                           .values(row_outcomes.unknown_after_restart(now)))
    return True


def pause(job: BatchJob) -> bool:
    """Staff pause: rows already on their way finish, no new row is sent."""
    return _move(job, RUNNABLE, JobState.PAUSED, note=_("Paused by staff."), paused_at=utcnow())


def pause_for_account(job_id: int, note: str) -> None:
    """The portal pauses: every further row would fail the same way until someone fixes the account."""
    with db.engine.begin() as connection:
        connection.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.state.in_(RUNNABLE))
                           .values(state=JobState.PAUSED, note=note, paused_at=utcnow()))


def resume(job: BatchJob, started_by: str) -> bool:
    return _move(job, (JobState.PAUSED,), JobState.QUEUED, note=None, started_by=started_by)


def finish_if_done(job_id: int) -> bool:
    """Mark the job finished if it is still running with nothing left; False when staff changed it meanwhile."""
    with db.engine.begin() as connection:
        nothing_left = ~db.select(BatchRow.id).where(BatchRow.job_id == job_id, BatchRow.state.in_(LEFT)).exists()
        done = connection.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.state == JobState.RUNNING,
                                                         nothing_left)
                                  .values(state=JobState.FINISHED, finished_at=utcnow(), note=None, wait_until=None))
    return done.rowcount == 1


def hand_back(job_id: int, owner: LeaseOwner) -> None:
    """The runner stops holding the job (its state stays: a runnable job is resumed by the next runner)."""
    with db.engine.begin() as connection:
        connection.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.lease_owner == str(owner))
                           .values(lease_owner=None, lease_until=None, wait_until=None, **_clock_stopped(utcnow())))


def _clock_stopped(now) -> dict:
    """The job stops sending: the run under way is added to its sending time (the rate's measure)."""
    so_far = func.coalesce(BatchJob.run_seconds, 0.0)
    return {"run_seconds": case((BatchJob.run_started.is_(None), BatchJob.run_seconds),
                                else_=so_far + (epoch(now) - BatchJob.run_started)),
            "run_started": None}


# -- after a run: retry, resend, discard ---------------------------------------------------------

def retry_failed(job: BatchJob, started_by: str) -> int:
    """Send again the failed rows a retry may fix (the unknown ones stay for a person to check, and those
    the vendor refused as they are stay refused: see SAME_AGAIN_CODES)."""
    with db.engine.begin() as connection:
        moved = connection.execute(update(BatchRow).where(
            BatchRow.job_id == job.id, retriable(BatchRow), BatchRow.picture_id.is_not(None))
            .values(_to_send_again())).rowcount
        if moved:
            connection.execute(update(BatchJob).where(BatchJob.id == job.id, BatchJob.state != JobState.REVIEW)
                               .values(state=JobState.QUEUED, finished_at=None, note=None, started_by=started_by))
    return moved


def resend_unknown(job: BatchJob, row_id: int, started_by: str) -> bool:
    """A person checked the face set and did not find this row's face (or, for a row held before its call,
    looked at why and chose to enrol it): send it again, without holding it a second time."""
    with db.engine.begin() as connection:
        moved = connection.execute(update(BatchRow).where(
            BatchRow.id == row_id, BatchRow.job_id == job.id, BatchRow.state == RowState.UNKNOWN,
            BatchRow.picture_id.is_not(None)).values({**_to_send_again(), "checked": True})).rowcount
        if moved:
            connection.execute(update(BatchJob).where(BatchJob.id == job.id, BatchJob.state == JobState.FINISHED)
                               .values(state=JobState.QUEUED, finished_at=None, started_by=started_by))
    return bool(moved)


def _to_send_again() -> dict:
    return {"state": RowState.PENDING, "code": None, "message": None, "finished_at": None}


def discard(job: BatchJob) -> bool:
    """Throw away a job that was never started (its pictures and stored ZIP with it)."""
    if job.state not in NOT_STARTED:
        return False
    for table in (BatchRow, BatchPicture, BatchUploadChunk):  # SQLite does not cascade unless asked to
        db.session.execute(db.delete(table).where(table.job_id == job.id))
    db.session.delete(job)
    db.session.commit()
    return True


# -- the purge's marks (retention.py) -----------------------------------------------------------

def purge_unstarted(connection, job_ids: list[int], message: str, now) -> None:
    """Nothing was sent: the rows are skipped (their picture is gone), and the job can only be discarded."""
    connection.execute(update(BatchRow).where(BatchRow.job_id.in_(job_ids), BatchRow.state.in_(STILL_TO_SEND))
                       .values(state=RowState.SKIPPED, message=f"faceImage: {message}"))
    connection.execute(update(BatchJob).where(BatchJob.id.in_(job_ids))
                       .values(state=JobState.REVIEW, archive_size=None))


def purge_unsendable(connection, job_ids: list[int], message: str, now) -> None:
    """What was sent stays in the results; the rows still to send can no longer be, and the job is finished."""
    connection.execute(update(BatchRow).where(BatchRow.job_id.in_(job_ids), BatchRow.state.in_(STILL_TO_SEND))
                       .values(state=RowState.FAILED, code="PURGED", message=message, finished_at=now))
    connection.execute(update(BatchJob).where(BatchJob.id.in_(job_ids)).values(
        state=JobState.FINISHED, finished_at=now, note=None, wait_until=None, **_clock_stopped(now)))


def _move(job: BatchJob, from_states: tuple, to_state: JobState, **values) -> bool:
    with db.engine.begin() as connection:
        moved = connection.execute(update(BatchJob).where(BatchJob.id == job.id, BatchJob.state.in_(from_states))
                                   .values(state=to_state, **values)).rowcount
    return moved == 1
