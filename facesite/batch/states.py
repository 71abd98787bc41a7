"""The states of a batch job and of its rows, and the groups of them the code decides on.

The values are the very strings stored in the database and written to the results CSV; a StrEnum
member equals its string, so rows read back from the database compare with these directly.
How a job and its rows move from one state to the next is lifecycle.py's (jobs) and
row_outcomes.py's (one row's call) business.
"""
from __future__ import annotations

import enum


class JobState(enum.StrEnum):
    UPLOADING = "uploading"  # rows still being written: no runner may check it yet
    CHECKING = "checking"  # its pictures are being read and checked in the background
    REVIEW = "review"  # checked: waits for staff to start or discard it
    QUEUED = "queued"  # started (or resumed, retried): waits for a runner
    RUNNING = "running"  # a runner holds it and sends its rows
    PAUSED = "paused"  # by staff, or by the portal when the vendor refused the account
    FINISHED = "finished"  # no row left to send


class RowState(enum.StrEnum):
    UNCHECKED = "unchecked"  # its picture is not checked yet
    PENDING = "pending"  # ready to send; never sent, or handed back
    SENDING = "sending"  # its call is on its way
    DONE = "done"  # enrolled
    FAILED = "failed"  # the vendor (or the portal) refused it
    UNKNOWN = "unknown"  # may or may not have reached the vendor: a person checks
    SKIPPED = "skipped"  # never sent: a problem in the upload or its picture


# -- jobs -------------------------------------------------------------------------------------

NOT_STARTED = (JobState.UPLOADING, JobState.CHECKING, JobState.REVIEW)  # nothing sent: may be discarded
READING = (JobState.UPLOADING, JobState.CHECKING)  # the page shows the pictures checked so far
RUNNABLE = (JobState.QUEUED, JobState.RUNNING)  # rows are to be sent; staff may pause it
NEEDS_RUNNER = (JobState.CHECKING,) + RUNNABLE  # a runner works on it when nobody holds its lease
WAITING_FOR_RUNNER = (JobState.CHECKING, JobState.QUEUED)  # says so when no runner takes it up
LIVE = READING + RUNNABLE  # the job's page follows it as it changes
RETRY_SHOWN = (JobState.FINISHED, JobState.PAUSED)  # where the page offers to retry the failed rows

# -- rows -------------------------------------------------------------------------------------

FINISHED_ROWS = (RowState.DONE, RowState.FAILED, RowState.UNKNOWN)  # the vendor answered (or may have)
LEFT = (RowState.PENDING, RowState.SENDING)  # still to be sent, or on their way
PROBLEMS = (RowState.SKIPPED, RowState.FAILED, RowState.UNKNOWN)  # what staff look at first
# A failed row with this vendor code fails the same way when it is sent again (the vendor refused the
# request itself: no face in the picture, a field it does not accept), so "retry" leaves it alone; every
# other failure (an error on the vendor's side, a connection that never got through) may go through.
SAME_AGAIN_CODES = ("PARAMETER_ERROR",)


def retriable(row_table):
    """The SQL condition: a failed row that sending again may fix."""
    return (row_table.state == RowState.FAILED) & (row_table.code.is_(None) | row_table.code.not_in(SAME_AGAIN_CODES))
STILL_TO_SEND = (RowState.UNCHECKED, RowState.PENDING)  # would still have been sent (the purge ends them)
# Where an outcome may still be recorded. A call was made: "sending", and "unknown" too (a runner
# presumed dead may still bring the real answer). No call was made yet: "pending".
SENT = (RowState.SENDING, RowState.UNKNOWN)
UNSENT = (RowState.PENDING,)


def for_the_page() -> dict[str, list[str]]:
    """The groups the job page's script decides on (batch.js), sent with the page rather than copied."""
    return {"live": list(LIVE), "reading": list(READING)}
