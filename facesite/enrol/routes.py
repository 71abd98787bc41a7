"""Enrol a face: the form, an optional duplicate check, Add Face, and the result page (post/redirect/get)."""
from __future__ import annotations

import uuid

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from facesite import catalogue
from facesite.advance import AdvanceError
from facesite.audit import mask_id_number
from facesite.auth.policy import draft_reader
from facesite.countries import country_name, country_options_html
from facesite.drafts import new_id
from facesite.enrol import bp
from facesite.enrol.forms import EnrolForm
from facesite.extensions import limiter
from facesite.outcomes import Problem, explain
from facesite.pictures import picture_template_context
from facesite.register.records import enrolments_for, record_enrolment
from facesite.search.forms import DEFAULT_THRESHOLD
from facesite.search.matches import matches_from
from facesite.security import user_or_address
from facesite.submissions import send_once
from facesite.upstream import vendor

DUPLICATE_CHECK_TOP_K = 5


def render_form(form: EnrolForm, problem: Problem | None = None, status: int = 200, duplicates=None):
    if problem:
        problem.mark(form)
    duplicate_register = enrolments_for(form.faceSetId.data, [m["faceId"] for m in duplicates]) if duplicates else {}
    return render_template("enrol/form.html", form=form, problem=problem, duplicates=duplicates,
                           duplicate_register=duplicate_register,
                           country_options=country_options_html(), face_set_options=catalogue.options_html(),
                           **picture_template_context()), status


def enrol_rate():
    return current_app.config["RATE_LIMIT_ENROL"]


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(enrol_rate, key_func=user_or_address, methods=["POST"])
def enrol():
    form = EnrolForm()
    if request.method in ("GET", "HEAD"):
        form.submissionId.data = new_id()
        form.faceSetId.data = catalogue.default_face_set_id(request.args.get("faceSetId"))
        return render_form(form)

    done = current_app.extensions["drafts"].outcome(form.submissionId.data, draft_reader())
    if done and done["state"] == "done":  # a refresh or a second click of a form already sent
        return redirect(url_for(".result", submission_id=form.submissionId.data), 303)
    valid = form.validate_on_submit()
    picture = form.attach_picture()
    if not valid or picture is None:
        return render_form(form, status=422)

    # Every request can be traced: the vendor gets a reference even when staff leave it empty.
    form.externalReferenceId.data = form.externalReferenceId.data or str(uuid.uuid4())
    if form.checkDuplicates.data and not form.duplicatesSeen.data:
        duplicates = likely_duplicates(form, picture)
        if isinstance(duplicates, Problem):
            return render_form(form, duplicates, duplicates.status)
        if duplicates:
            form.duplicatesSeen.data = "1"  # sending the form again now means "enrol anyway"
            return render_form(form, duplicates=duplicates, status=409)

    outcome = send_once(form.submissionId.data, lambda: add_face(form, picture))
    if outcome["state"] == "done":
        return redirect(url_for(".result", submission_id=form.submissionId.data), 303)
    form.submissionId.data = new_id()  # the next attempt is a new submission
    problem = Problem(**outcome["problem"])
    return render_form(form, problem, problem.status)


def likely_duplicates(form: EnrolForm, picture) -> list[dict] | Problem:
    """Faces in the chosen set that look like this picture (the search is charged on success)."""
    data, facts = picture
    threshold = form.face_set.default_threshold
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    try:
        answer = vendor().search(form.faceSetId.data, data, filename=f"face{facts.extension}",
                                 mime_type=facts.mime_type, top_k=DUPLICATE_CHECK_TOP_K, threshold=threshold)
    except AdvanceError as error:
        return explain(error)
    return matches_from(answer.data, current_app.config["SCORE_FIELD"])


def add_face(form: EnrolForm, picture) -> dict:
    data, facts = picture
    try:
        answer = vendor().add_face(form.faceSetId.data, data, filename=f"face{facts.extension}",
                                   mime_type=facts.mime_type, details=form.details())
    except AdvanceError as error:
        return {"state": "failed", "problem": explain(error, reference=form.externalReferenceId.data).to_dict()}
    entry = record_enrolment(form.faceSetId.data, answer.data, form.details(), answer.transaction_id, data,
                             facts.decoded, enrolled_by=current_user.username)
    return {
        "state": "done", "faceId": answer.data, "transactionId": answer.transaction_id,
        "pricingStrategy": answer.pricing_strategy, "note": note_from(answer.extra), "registerId": entry.id if entry else None,
        "faceSetId": form.faceSetId.data, "faceSetLabel": form.face_set.label,
        # Kept for the result page: like every record the portal keeps, without the full ID number.
        "details": {**form.details(), "idNumber": mask_id_number(form.idNumber.data)},
        "pictureId": form.keptPicture.data, "preparation": form.preparation.data,
        "picture": {"format": facts.format, "width": facts.width, "height": facts.height, "bytes": facts.size_bytes},
    }


def note_from(extra) -> str | None:
    """What the vendor said beside the result (the sandbox notes several faces here)."""
    if isinstance(extra, dict) and extra.get("note"):
        return str(extra["note"])
    return None if extra in (None, "", {}) else str(extra)


@bp.get("/done/<submission_id>")
def result(submission_id):
    outcome = current_app.extensions["drafts"].outcome(submission_id, draft_reader())
    if not outcome or outcome["state"] != "done" or "details" not in outcome:  # a search's id is not an enrolment
        abort(404)
    return render_template("enrol/result.html", result=outcome,
                           country=country_name(outcome["details"].get("country")))
