"""Enrol a face: the form, the call to Add Face, and the result page (post/redirect/get)."""
from __future__ import annotations

import uuid

from flask import abort, current_app, redirect, render_template, request, url_for

from facesite import image_rules
from facesite.advance import AdvanceError
from facesite.auth.access import role_required
from facesite.countries import country_name, country_options_html
from facesite.drafts import new_id
from facesite.enrol import bp
from facesite.enrol.forms import EnrolForm
from facesite.extensions import limiter
from facesite.outcomes import Problem, explain
from facesite.sandbox import DEMO_FACE_SET_ID
from facesite.security import user_or_address
from facesite.upstream import vendor

PICTURE_GONE = "The picture from your last attempt has expired: attach it again."


def render_form(form: EnrolForm, problem: Problem | None = None, status: int = 200):
    if problem and problem.field:
        getattr(form, problem.field).errors = list(getattr(form, problem.field).errors) + [problem.message]
    return render_template("enrol/form.html", form=form, problem=problem, country_options=country_options_html(),
                           rules=image_rules.browser_rules(), rules_text=image_rules.RULES_TEXT,
                           demo_face_set=DEMO_FACE_SET_ID), status


def attach_picture(form: EnrolForm) -> tuple[bytes, image_rules.ImageFacts] | None:
    """The picture to send: a new upload (kept for later), else the one kept from the last attempt."""
    drafts = current_app.extensions["drafts"]
    if form.picture is not None:
        form.keptPicture.data = drafts.keep_picture(form.picture, form.picture_facts.extension)
        return form.picture, form.picture_facts
    kept = drafts.picture(form.keptPicture.data)
    if kept is None:
        form.keptPicture.data = ""
        return None
    return kept[0], image_rules.check_image(kept[0])


def enrol_rate():
    return current_app.config["RATE_LIMIT_ENROL"]


@bp.before_request
@role_required("operator")
def operators_only():
    """Enrolling, its results and its pictures are for operators and admins."""


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(enrol_rate, key_func=user_or_address, methods=["POST"])
def enrol():
    form = EnrolForm()
    drafts = current_app.extensions["drafts"]
    if request.method == "GET":
        form.submissionId.data = new_id()
        form.faceSetId.data = request.args.get("faceSetId") or (
            DEMO_FACE_SET_ID if current_app.config["SANDBOX_MODE"] else "")
        return render_form(form)

    submission_id = form.submissionId.data
    previous = drafts.outcome(submission_id)
    if previous and previous["state"] == "done":  # a refresh or a second click of a form already sent
        return redirect(url_for(".result", submission_id=submission_id), 303)

    valid = form.validate_on_submit()
    picture = attach_picture(form) if not form.faceImage.errors else None
    if not valid or picture is None:
        if picture is None and not form.faceImage.errors:
            form.faceImage.errors = [PICTURE_GONE]
        return render_form(form, status=422)

    if not drafts.claim(submission_id):
        # The same form is being sent by another request (a double click): show its outcome.
        outcome = drafts.wait_for_outcome(submission_id, current_app.config["ADVANCE_READ_TIMEOUT"] + 10)
        if outcome and outcome["state"] == "done":
            return redirect(url_for(".result", submission_id=submission_id), 303)
        problem = Problem(**outcome["problem"]) if outcome else Problem(
            "This form is still being sent.", "Wait a moment, then look for the face before sending again.", 409)
        form.submissionId.data = new_id()
        return render_form(form, problem, problem.status)

    # Every request can be traced: the vendor gets a reference even when staff leave it empty.
    form.externalReferenceId.data = form.externalReferenceId.data or str(uuid.uuid4())
    data, facts = picture
    try:
        answer = vendor().add_face(
            form.faceSetId.data, data, filename=f"face{facts.extension}", mime_type=facts.mime_type,
            details=form.details())
    except AdvanceError as error:
        problem = explain(error, reference=form.externalReferenceId.data)
        drafts.finish(submission_id, {"state": "failed", "problem": problem.to_dict()})
        form.submissionId.data = new_id()
        return render_form(form, problem, problem.status)

    drafts.finish(submission_id, {
        "state": "done", "faceId": answer.data, "transactionId": answer.transaction_id,
        "pricingStrategy": answer.pricing_strategy, "note": note_from(answer.extra),
        "faceSetId": form.faceSetId.data, "details": form.details(), "pictureId": form.keptPicture.data,
        "picture": {"format": facts.format, "width": facts.width, "height": facts.height, "bytes": facts.size_bytes},
    })
    return redirect(url_for(".result", submission_id=submission_id), 303)


def note_from(extra) -> str | None:
    """What the vendor said beside the result (the sandbox notes several faces here)."""
    if isinstance(extra, dict) and extra.get("note"):
        return str(extra["note"])
    return None if extra in (None, "", {}) else str(extra)


@bp.get("/done/<submission_id>")
def result(submission_id):
    outcome = current_app.extensions["drafts"].outcome(submission_id)
    if not outcome or outcome["state"] != "done":
        abort(404)
    return render_template("enrol/result.html", result=outcome,
                           country=country_name(outcome["details"].get("country")))


@bp.get("/picture/<picture_id>")
def picture(picture_id):
    kept = current_app.extensions["drafts"].picture(picture_id)
    if kept is None:
        abort(404)
    data, mime_type = kept
    response = current_app.response_class(data, mimetype=mime_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
