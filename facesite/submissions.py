"""Send a form to the vendor once, however often the browser sends it.

Every form carries a one-time submission id. The first request to claim it does
the work and records the outcome; a double click, a refresh or a resend gets
that outcome instead of a second (possibly charged) vendor call.
"""
from __future__ import annotations

from typing import Callable

from flask import current_app

STILL_SENDING = {"state": "failed", "problem": {
    "title": "This form is still being sent.", "status": 409,
    "advice": "Wait a moment, then look for the result before sending again."}}


def send_once(submission_id: str, work: Callable[[], dict]) -> dict:
    """The outcome of ``work()`` for this submission, running it only for the first request.

    ``work`` returns ``{"state": "done", ...}`` or ``{"state": "failed", "problem": {...}}``.
    """
    drafts = current_app.extensions["drafts"]
    previous = drafts.outcome(submission_id)
    if previous is not None:
        return previous
    if not drafts.claim(submission_id):  # another request is sending this very form now
        wait = current_app.config["ADVANCE_READ_TIMEOUT"] + 10
        return drafts.wait_for_outcome(submission_id, wait) or STILL_SENDING
    outcome = work()
    drafts.finish(submission_id, outcome)
    return outcome
