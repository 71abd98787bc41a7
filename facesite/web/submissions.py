"""Send a form to the vendor once, however often the browser sends it.

Every form carries a one-time submission id. The first request to claim it does
the work and records the outcome; a double click, a refresh or a resend gets
that outcome instead of a second (possibly charged) vendor call.
"""
from __future__ import annotations

from typing import Callable, TypeVar

from flask import abort, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from facesite.access.policy import draft_reader
from facesite.config import settings
from facesite.drafts import drafts, new_id
from facesite.faces import Outcome, Problem, Refused, outcome_from_json, outcome_to_json


def still_sending() -> Refused:
    return Refused(Problem(_("This form is still being sent."),
                           _("Wait a moment, then look for the result before sending again."), 409))


def someone_elses() -> Refused:
    """A submission id someone else used first: their outcome is theirs, so this form just gets a fresh id."""
    return Refused(Problem(_("This form cannot be sent as it was."),
                           _("Everything you entered is kept: send the form again."), 409))


def kept_outcome(submission_id: str | None) -> Outcome | None:
    """The signed-in user's outcome of this submission, if it has one."""
    return outcome_from_json(drafts().outcome(submission_id, draft_reader()))


Result = TypeVar("Result")


def kept_result(submission_id: str, kind: type[Result]) -> Result:
    """The signed-in user's result of this submission for its result page; 404 when there is none of
    that kind (a search's id is not an enrolment, nor the other way round)."""
    outcome = kept_outcome(submission_id)
    if not isinstance(outcome, kind):
        abort(404)
    return outcome


def problem_of(outcome: Outcome) -> Problem:
    """What the form shows when sending did not give its result: the refusal, or, when the id holds
    another form's outcome, a plain "send it again" (the form then gets a fresh id)."""
    return (outcome if isinstance(outcome, Refused) else someone_elses()).problem


def send_once(submission_id: str, work: Callable[[], Outcome]) -> Outcome:
    """The outcome of ``work()`` for this submission, running it only for the first request.
    The outcome belongs to the signed-in user: nobody else is shown it or waits for it."""
    store, reader = drafts(), draft_reader()
    # No read first: the claim itself tells a first send (the common case) from a second one.
    if not store.claim(submission_id, current_user.username):
        if not store.claimed(submission_id, reader):
            return someone_elses()
        # Sent before (its outcome is there) or being sent by another request right now.
        wait = settings().advance_read_timeout + 10
        return outcome_from_json(store.wait_for_outcome(submission_id, reader, wait)) or still_sending()
    outcome = work()
    store.finish(submission_id, outcome_to_json(outcome), current_user.username)
    return outcome


def page_after_sending(form, outcome: Outcome, kind: type[Result], result_endpoint: str, render_form):
    """Post/redirect/get: the result of ``kind`` is shown on its own page (a refresh sends nothing again);
    anything else shows the form again with the problem and a fresh submission id for the next attempt."""
    if isinstance(outcome, kind):
        return redirect(url_for(result_endpoint, submission_id=form.submissionId.data), 303)
    form.submissionId.data = new_id()
    problem = problem_of(outcome)
    return render_form(form, problem, problem.status)
