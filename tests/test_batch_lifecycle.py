"""The rules of a batch job's life, on the database alone (SQLite; no vendor, no HTTP): who may take a
job (its lease), what a take-over does to the rows in flight, and which state each change starts from."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from facesite.batch import lifecycle
from facesite.batch.lease import LeaseOwner
from facesite.batch.scheduler import batch_scheduler
from facesite.batch.states import JobState, RowState
from facesite.extensions import db
from facesite.models import BatchJob, BatchRow, utcnow
from tests.support import make_app

LEASE_SECONDS = 30
RUNNER_A, RUNNER_B = LeaseOwner("web-1", 101, "aaaa"), LeaseOwner("web-2", 202, "bbbb")


@pytest.fixture
def database():
    """A portal whose vendor is never called: only its database is used."""
    app = make_app("http://127.0.0.1:9", SANDBOX_MODE=False)
    with app.app_context():
        yield app


def a_job(state: JobState, *row_states: RowState, **values) -> BatchJob:
    job = BatchJob(created_by="otto", archive_name="people.zip", state=state, **values)
    db.session.add(job)
    db.session.flush()
    db.session.add_all(BatchRow(job_id=job.id, row_number=i + 2, file_name=f"p{i}.jpg", state=row_state,
                                picture_id=None) for i, row_state in enumerate(row_states))
    db.session.commit()
    return job


def job_now(job: BatchJob) -> BatchJob:
    db.session.expire_all()
    return db.session.get(BatchJob, job.id)


def row_states(job: BatchJob) -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(BatchRow.state).where(BatchRow.job_id == job.id)
                                   .order_by(BatchRow.row_number)))


# -- the lease --------------------------------------------------------------------------------------

def test_a_queued_job_is_taken_by_one_runner_and_runs(database):
    job = a_job(JobState.QUEUED, RowState.PENDING)
    assert lifecycle.take_over(job.id, RUNNER_A, LEASE_SECONDS)
    assert not lifecycle.take_over(job.id, RUNNER_B, LEASE_SECONDS), "the lease has not run out"
    job = job_now(job)
    assert (job.state, job.lease_owner) == (JobState.RUNNING, "web-1:101:aaaa")
    assert timedelta(seconds=LEASE_SECONDS - 5) < job.lease_until - utcnow() <= timedelta(seconds=LEASE_SECONDS)


def test_a_lease_that_ran_out_is_taken_over_and_the_rows_in_flight_become_unknown(database):
    job = a_job(JobState.RUNNING, RowState.SENDING, RowState.PENDING, RowState.DONE,
                lease_owner=str(RUNNER_A), lease_until=utcnow() - timedelta(seconds=1))
    assert lifecycle.take_over(job.id, RUNNER_B, LEASE_SECONDS)
    assert job_now(job).lease_owner == str(RUNNER_B)
    assert row_states(job) == [RowState.UNKNOWN, RowState.PENDING, RowState.DONE]
    lost = db.session.scalar(db.select(BatchRow).where(BatchRow.job_id == job.id, BatchRow.row_number == 2))
    assert lost.code == "UNKNOWN" and "by its reference" in lost.message


def test_a_job_being_checked_stays_checking_when_taken(database):
    job = a_job(JobState.CHECKING, RowState.UNCHECKED)
    assert lifecycle.take_over(job.id, RUNNER_A, LEASE_SECONDS)
    assert job_now(job).state == JobState.CHECKING


@pytest.mark.parametrize("state", [JobState.UPLOADING, JobState.REVIEW, JobState.PAUSED, JobState.FINISHED])
def test_a_job_that_needs_no_runner_is_not_taken(database, state):
    job = a_job(state, RowState.PENDING)
    assert not lifecycle.take_over(job.id, RUNNER_A, LEASE_SECONDS)
    assert (job_now(job).state, job_now(job).lease_owner) == (state, None)


def test_only_the_holder_hands_a_job_back_and_the_job_keeps_its_state(database):
    job = a_job(JobState.QUEUED, RowState.PENDING)
    lifecycle.take_over(job.id, RUNNER_A, LEASE_SECONDS)
    lifecycle.hand_back(job.id, RUNNER_B)
    assert job_now(job).lease_owner == str(RUNNER_A)
    lifecycle.hand_back(job.id, RUNNER_A)
    job = job_now(job)
    assert (job.state, job.lease_owner, job.lease_until) == (JobState.RUNNING, None, None)
    assert lifecycle.take_over(job.id, RUNNER_B, LEASE_SECONDS), "the next runner resumes it at once"


def test_a_lease_of_a_dead_process_of_this_machine_ends_at_the_next_sweep(database):
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead, alive = LeaseOwner.here(), LeaseOwner.here()
    dead = LeaseOwner(dead.host, int(ended.stdout), dead.token)
    until = utcnow() + timedelta(minutes=5)
    of_dead = a_job(JobState.RUNNING, lease_owner=str(dead), lease_until=until)
    of_alive = a_job(JobState.RUNNING, lease_owner=str(alive), lease_until=until)
    elsewhere = a_job(JobState.RUNNING, lease_owner=str(LeaseOwner("another-host", dead.pid, "cccc")),
                      lease_until=until)
    batch_scheduler(database)._forget_dead_runners_here()
    assert job_now(of_dead).lease_until is None
    assert job_now(of_alive).lease_until is not None and job_now(elsewhere).lease_until is not None


# -- staff's changes, and the runner's ---------------------------------------------------------------

def test_only_a_job_in_review_starts(database):
    review, paused = a_job(JobState.REVIEW), a_job(JobState.PAUSED)
    assert lifecycle.start(review, "otto") and not lifecycle.start(paused, "otto")
    assert (job_now(review).state, job_now(review).started_by) == (JobState.QUEUED, "otto")


@pytest.mark.parametrize("state", [JobState.QUEUED, JobState.RUNNING])
def test_a_queued_or_running_job_pauses_and_resumes(database, state):
    job = a_job(state)
    assert lifecycle.pause(job) and job_now(job).state == JobState.PAUSED and job_now(job).note == "Paused by staff."
    assert lifecycle.resume(job, "olga")
    assert (job_now(job).state, job_now(job).started_by, job_now(job).note) == (JobState.QUEUED, "olga", None)


def test_a_finished_job_neither_pauses_nor_resumes(database):
    job = a_job(JobState.FINISHED)
    assert not lifecycle.pause(job) and not lifecycle.resume(job, "otto")
    lifecycle.pause_for_account(job.id, "account refused")
    assert job_now(job).state == JobState.FINISHED


def test_the_portal_pauses_a_running_job_when_the_account_is_refused(database):
    job = a_job(JobState.RUNNING, RowState.PENDING)
    lifecycle.pause_for_account(job.id, "Paused by the portal: the balance is used up.")
    assert (job_now(job).state, job_now(job).note) == (JobState.PAUSED, "Paused by the portal: the balance is used up.")


def test_a_job_finishes_only_when_no_row_is_left_and_it_still_runs(database):
    busy = a_job(JobState.RUNNING, RowState.DONE, RowState.SENDING)
    paused = a_job(JobState.PAUSED, RowState.DONE)
    done = a_job(JobState.RUNNING, RowState.DONE, RowState.FAILED, RowState.UNKNOWN, RowState.SKIPPED,
                 note="waiting", wait_until=utcnow())
    assert not lifecycle.finish_if_done(busy.id) and not lifecycle.finish_if_done(paused.id)
    assert lifecycle.finish_if_done(done.id)
    done = job_now(done)
    assert (done.state, done.note, done.wait_until) == (JobState.FINISHED, None, None) and done.finished_at


def test_retrying_sends_the_failed_rows_that_still_have_their_picture(database):
    job = a_job(JobState.FINISHED, RowState.FAILED, RowState.FAILED, RowState.UNKNOWN)
    assert lifecycle.retry_failed(job, "olga") == 0, "no picture kept: nothing to retry"
    db.session.execute(db.update(BatchRow).where(BatchRow.job_id == job.id).values(picture_id=1))
    db.session.commit()
    assert lifecycle.retry_failed(job, "olga") == 2
    assert row_states(job) == [RowState.PENDING, RowState.PENDING, RowState.UNKNOWN]
    assert (job_now(job).state, job_now(job).started_by) == (JobState.QUEUED, "olga")


def test_retrying_leaves_a_row_the_vendor_refused_as_it_is(database):
    """PARAMETER_ERROR (no face, a field the vendor does not take) fails the same way again; any other code,
    or none, may go through on a second try."""
    job = a_job(JobState.FINISHED, RowState.FAILED, RowState.FAILED, RowState.FAILED)
    ids = [row.id for row in db.session.scalars(db.select(BatchRow).where(BatchRow.job_id == job.id)
                                                .order_by(BatchRow.id))]
    for row_id, code in zip(ids, ["PARAMETER_ERROR", "ERROR", None]):
        db.session.execute(db.update(BatchRow).where(BatchRow.id == row_id).values(picture_id=1, code=code))
    db.session.commit()
    assert lifecycle.retry_failed(job, "olga") == 2
    assert row_states(job) == [RowState.FAILED, RowState.PENDING, RowState.PENDING]


def test_one_unknown_row_is_sent_again_once_a_person_checked_it(database):
    job = a_job(JobState.FINISHED, RowState.UNKNOWN, RowState.DONE)
    db.session.execute(db.update(BatchRow).where(BatchRow.job_id == job.id).values(picture_id=1))
    db.session.commit()
    unknown, done = db.session.scalars(db.select(BatchRow.id).where(BatchRow.job_id == job.id)
                                       .order_by(BatchRow.row_number)).all()
    assert not lifecycle.resend_unknown(job, done, "otto")
    assert lifecycle.resend_unknown(job, unknown, "otto")
    assert row_states(job) == [RowState.PENDING, RowState.DONE] and job_now(job).state == JobState.QUEUED


@pytest.mark.parametrize("state", list(JobState))
def test_only_a_job_never_started_is_discarded(database, state):
    job = a_job(state, RowState.SKIPPED)
    discarded = lifecycle.discard(job)
    assert discarded == (state in (JobState.UPLOADING, JobState.CHECKING, JobState.REVIEW))
    assert (db.session.get(BatchJob, job.id) is None) == discarded


def test_a_job_dispatched_while_its_thread_winds_up_runs_again(database, monkeypatch):
    """A retry clicked the moment a job finished found the job's thread still ending: the dispatch was
    dropped and, with no sweep due, the job sat queued ("No process has taken this job up yet")."""
    import threading

    from facesite.batch import scheduler as scheduler_module

    winding_up, runs = threading.Event(), []

    def run_job(app, job_id, stopping=None):  # stands in for the runner: the first run is slow to end
        runs.append(job_id)
        if len(runs) == 1:
            winding_up.wait(10)

    monkeypatch.setattr(scheduler_module, "run_job", run_job)
    scheduler = scheduler_module.BatchScheduler(database)
    first = scheduler.run_here(7)
    assert scheduler.run_here(7) is None  # its thread is still there
    winding_up.set()
    first.join(10)
    for _ in range(100):
        if len(runs) == 2 and not scheduler.running_here:
            break
        threading.Event().wait(0.05)
    assert runs == [7, 7] and not scheduler.running_here
