"""Send a form to the vendor once, however often the browser sends it.

Every form carries a one-time submission id. The first request to claim it does
the work and records the outcome; a double click, a refresh or a resend gets
that outcome instead of a second (possibly charged) vendor call.
"""
from __future__ import annotations

from typing import Callable

from flask import current_app
from flask_login import current_user

from facesite.auth.policy import draft_reader

STILL_SENDING = {"state": "failed", "problem": {
    "title": "This form is still being sent.", "status": 409,
    "advice": "Wait a moment, then look for the result before sending again."}}
# A submission id someone else used first: their outcome is theirs, so this form just gets a fresh id.
SOMEONE_ELSES = {"state": "failed", "problem": {
    "title": "This form cannot be sent as it was.", "status": 409,
    "advice": "Everything you entered is kept: send the form again."}}


def send_once(submission_id: str, work: Callable[[], dict]) -> dict:
    """The outcome of ``work()`` for this submission, running it only for the first request.

    ``work`` returns ``{"state": "done", ...}`` or ``{"state": "failed", "problem": {...}}``. The
    outcome belongs to the signed-in user: nobody else is shown it or waits for it.
    """
    drafts, reader = current_app.extensions["drafts"], draft_reader()
    previous = drafts.outcome(submission_id, reader)
    if previous is not None:
        return previous
    if not drafts.claim(submission_id, current_user.username):
        if not drafts.claimed(submission_id, reader):
            return SOMEONE_ELSES
        # Another request is sending this very form now.
        wait = current_app.config["ADVANCE_READ_TIMEOUT"] + 10
        return drafts.wait_for_outcome(submission_id, reader, wait) or STILL_SENDING
    outcome = work()
    drafts.finish(submission_id, outcome, current_user.username)
    return outcome
