"""The batch decisions on their own, without HTTP, a database or the face engine: what becomes of a row
after each kind of vendor error, and the figures the progress bar shows."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from facesite.advance import TransportError, VendorError
from facesite.advance.envelope import VendorResponse
from facesite.batch import jobs, row_outcomes, states
from facesite.batch.lease import LeaseOwner
from facesite.batch.states import JobState, RowState
from facesite.faces.person import PersonDetails
from facesite.faces.results import Enrolled
from facesite.models import BatchJob

SENT = PersonDetails(external_reference_id="EMP-0042", name="Maria Santos")


class Gate:
    """What a row's error asks of the job's VendorGate, written down."""

    def __init__(self):
        self.holds: list[tuple[float, str]] = []
        self.stops: list[str] = []

    def hold(self, seconds, note):
        self.holds.append((seconds, note))

    def stop(self, note):
        self.stops.append(note)


def vendor_error(code: str, message="The vendor says no.", retry_after=None, step="add_face") -> VendorError:
    return VendorError(VendorResponse(code=code, message=message, transaction_id="tx-1", retry_after=retry_after),
                       step=step)


def outcome(error, attempts=1) -> tuple[dict, Gate]:
    gate = Gate()
    return row_outcomes.after_error(error, SENT, gate, attempts), gate


def is_back_in_queue(values: dict, counted: bool) -> bool:
    """Pending again; an attempt that the vendor refused to even look at is not counted."""
    return values["state"] == RowState.PENDING and ("attempts" not in values) == counted


# -- what a vendor error does to the row and to its job ----------------------------------------

@pytest.mark.parametrize("code", row_outcomes.BUSY_CODES)
def test_a_busy_vendor_holds_the_gate_as_long_as_it_asked_and_the_row_waits(code):
    values, gate = outcome(vendor_error(code, retry_after=7))
    assert is_back_in_queue(values, counted=False)
    assert [seconds for seconds, _ in gate.holds] == [7] and code in gate.holds[0][1] and not gate.stops


def test_a_busy_vendor_without_retry_after_holds_the_gate_for_the_default_wait():
    values, gate = outcome(vendor_error("SERVICE_BUSY"))
    assert is_back_in_queue(values, counted=False)
    assert gate.holds[0][0] == row_outcomes.BUSY_WAIT_SECONDS


def test_http_429_holds_the_gate_too():
    error = TransportError("rate_limited", "HTTP 429", may_have_reached=False, http_status=429, retry_after=3)
    values, gate = outcome(error)
    assert is_back_in_queue(values, counted=False)
    assert gate.holds == [(3, "The vendor is busy (HTTP 429): waiting 3 s as it asked, then going on.")]


@pytest.mark.parametrize("code", row_outcomes.ACCOUNT_CODES)
def test_an_account_refusal_pauses_the_job_and_the_row_waits_for_the_resume(code):
    values, gate = outcome(vendor_error(code, message="account problem"))
    assert is_back_in_queue(values, counted=False)
    assert not gate.holds
    [note] = gate.stops
    assert note.startswith("Paused by the portal: ") and f"(vendor code {code}: account problem)" in note


def test_a_refused_token_pauses_the_job_whatever_its_code():
    values, gate = outcome(vendor_error("PARAMETER_ERROR", step="token"))
    assert is_back_in_queue(values, counted=False) and len(gate.stops) == 1


def test_any_other_vendor_code_fails_the_row_alone():
    values, gate = outcome(vendor_error("NO_FACE_DETECTED", message="no face in the picture"))
    assert (values["state"], values["code"], values["message"], values["transaction_id"]) == \
        (RowState.FAILED, "NO_FACE_DETECTED", "no face in the picture", "tx-1")
    assert values["finished_at"] is not None and not gate.holds and not gate.stops


def test_a_vendor_refusal_without_a_message_is_explained():
    values, _ = outcome(vendor_error("NO_FACE_DETECTED", message=""))
    assert values["state"] == RowState.FAILED and values["message"]


@pytest.mark.parametrize("attempts", range(1, row_outcomes.MAX_UNSENT_ATTEMPTS))
def test_a_refused_connection_is_retried_later_and_counts_as_an_attempt(attempts):
    error = TransportError("connection", "refused", may_have_reached=False, step="add_face")
    values, gate = outcome(error, attempts)
    assert is_back_in_queue(values, counted=True)
    assert gate.holds[0][0] == 2 ** attempts and f"Trying again in {2 ** attempts} s." in gate.holds[0][1]


def test_a_refused_connection_fails_the_row_after_the_last_attempt():
    error = TransportError("connection", "refused", may_have_reached=False, step="add_face")
    values, gate = outcome(error, row_outcomes.MAX_UNSENT_ATTEMPTS)
    assert (values["state"], values["code"]) == (RowState.FAILED, "TRANSPORT_CONNECTION") and not gate.holds


@pytest.mark.parametrize("kind", ["timeout", "connection", "not_json", "http_status"])
def test_a_call_that_may_have_reached_the_vendor_leaves_the_row_for_a_person(kind):
    values, gate = outcome(TransportError(kind, "lost", may_have_reached=True, step="add_face"), attempts=1)
    assert (values["state"], values["code"]) == (RowState.UNKNOWN, f"TRANSPORT_{kind.upper()}")
    assert "EMP-0042" in values["message"] and not gate.holds and not gate.stops


def test_an_enrolled_row_lets_go_of_its_picture_and_full_id_number():
    result = Enrolled("1", "1", "12345", "tx-9", "FREE", None, None, SENT.masked(), None, "resized")
    values = row_outcomes.enrolled(result)
    assert (values["state"], values["face_id"], values["picture_id"], values["id_number"]) == \
        (RowState.DONE, "12345", None, None)


# -- progress figures ---------------------------------------------------------------------------

NOW = datetime(2026, 1, 5, 12, 0, 0)


def job(state: JobState, **values) -> BatchJob:
    return BatchJob(id=1, state=state, created_at=NOW - timedelta(minutes=5), **values)


def counted(**by_state: int) -> dict[str, int]:
    return {state: by_state.get(state.value, 0) for state in RowState}


def test_a_running_job_shows_its_counts_rate_and_time_left():
    n = counted(skipped=2, done=3, failed=1, unknown=1, pending=2, sending=1)
    figures = jobs.figures(job(JobState.RUNNING, started_at=NOW - timedelta(seconds=30)), n, recent=6, now=NOW)
    assert {key: figures[key] for key in ("rows", "total", "done", "failed", "unknown", "skipped", "left",
                                          "sending", "checked")} == \
        {"rows": 10, "total": 8, "done": 3, "failed": 1, "unknown": 1, "skipped": 2, "left": 3, "sending": 1,
         "checked": 10}
    assert figures["percent"] == 62.5  # 5 of the 8 rows to send have finished
    assert figures["rate_per_second"] == 0.2 and figures["seconds_left"] == 15  # 6 rows in 30 s, 3 left


def test_the_rate_of_a_long_running_job_is_over_the_last_minute_only():
    figures = jobs.figures(job(JobState.RUNNING, started_at=NOW - timedelta(hours=1)), counted(pending=60),
                           recent=30, now=NOW)
    assert figures["rate_per_second"] == 0.5 and figures["seconds_left"] == 120


def test_a_job_that_just_started_has_no_rate_yet():
    figures = jobs.figures(job(JobState.RUNNING, started_at=NOW - timedelta(milliseconds=500)),
                           counted(pending=5, done=1), recent=1, now=NOW)
    assert figures["rate_per_second"] is None and figures["seconds_left"] is None


def test_a_finished_job_shows_its_average_rate_and_no_note():
    finished = job(JobState.FINISHED, started_at=NOW - timedelta(seconds=100), finished_at=NOW - timedelta(seconds=50),
                   note="The vendor is busy")
    figures = jobs.figures(finished, counted(done=20, failed=5), recent=0, now=NOW)
    assert figures["rate_per_second"] == 0.5 and figures["percent"] == 100.0 and figures["note"] is None


def test_a_job_being_checked_shows_the_photos_checked_so_far():
    figures = jobs.figures(job(JobState.CHECKING, lease_owner="web:1:abcd"), counted(unchecked=3, pending=1),
                           recent=0, now=NOW)
    assert (figures["percent"], figures["checked"], figures["rows"], figures["note"]) == (25.0, 1, 4, None)


@pytest.mark.parametrize("state", states.WAITING_FOR_RUNNER)
def test_a_job_no_runner_takes_up_says_so(state):
    waiting = jobs.figures(job(state), counted(pending=2), recent=0, now=NOW)
    held = jobs.figures(job(state, lease_owner="web:1:abcd"), counted(pending=2), recent=0, now=NOW)
    just_queued = jobs.figures(job(state, queued_at=NOW - timedelta(seconds=5)), counted(pending=2), 0, NOW)
    assert waiting["note"] == jobs.NO_RUNNER and held["note"] is None and just_queued["note"] is None


def test_a_job_waiting_for_the_vendor_says_how_long():
    figures = jobs.figures(job(JobState.RUNNING, wait_until=NOW + timedelta(seconds=9), note="busy"),
                           counted(pending=1), recent=0, now=NOW)
    assert figures["waiting_seconds"] == 9 and figures["note"] == "busy"


def test_empty_jobs_are_not_divided_by_zero():
    assert jobs.figures(job(JobState.CHECKING), counted(), 0, NOW)["percent"] == 0.0
    assert jobs.figures(job(JobState.REVIEW), counted(skipped=3), 0, NOW)["percent"] == 100.0


# -- the states as stored and as the page gets them ------------------------------------------------

def test_the_states_are_the_strings_stored_in_the_database():
    assert [s.value for s in JobState] == ["uploading", "checking", "review", "queued", "running", "paused",
                                           "finished"]
    assert [s.value for s in RowState] == ["unchecked", "pending", "sending", "done", "failed", "unknown", "skipped"]
    assert "running" in states.RUNNABLE and RowState.DONE == "done" and f"{JobState.PAUSED}" == "paused"


def test_the_page_gets_the_groups_its_script_decides_on():
    assert states.for_the_page() == {"live": ["uploading", "checking", "queued", "running"],
                                     "reading": ["uploading", "checking"]}


def test_a_lease_owner_is_stored_as_host_pid_token_and_read_back():
    owner = LeaseOwner("web-1", 4242, "0badcafe")
    assert str(owner) == "web-1:4242:0badcafe" and LeaseOwner.parse(str(owner)) == owner
    here = LeaseOwner.here()
    assert LeaseOwner.parse(str(here)) == here and len(str(here).split(":")) == 3
