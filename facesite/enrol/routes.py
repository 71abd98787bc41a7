"""Enrol a face: the form, an optional duplicate check, Add Face, and the result page (post/redirect/get).
The work itself is the domain layer's (``faces.enrolment``, ``faces.searching``); this is the web side."""
from __future__ import annotations

from dataclasses import replace

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from facesite import catalogue
from facesite.countries import country_options_html
from facesite.drafts import new_id
from facesite.enrol import bp
from facesite.enrol.forms import EnrolForm
from facesite.extensions import drafts, limiter
from facesite.faces.enrolment import enrol as add_face
from facesite.faces.id_numbers import seal, unseal
from facesite.faces.problems import Problem
from facesite.faces.register import enrolments_for
from facesite.faces.results import Enrolled, Match, Refused
from facesite.faces.searching import find_duplicates
from facesite.pictures import keep_preview, picture_template_context
from facesite.security import user_or_address
from facesite.submissions import kept_outcome, kept_result, problem_of, send_once


def render_form(form: EnrolForm, problem: Problem | None = None, status: int = 200,
                duplicates: tuple[Match, ...] = ()):
    if problem:
        problem.mark(form)
    form.keep_picture()  # shown again: the picture stays attached
    duplicate_register = enrolments_for(form.faceSetId.data, [m.face_id for m in duplicates]) if duplicates else {}
    return render_template("enrol/form.html", form=form, problem=problem, duplicates=duplicates,
                           duplicate_register=duplicate_register,
                           country_options=country_options_html(),
                           **picture_template_context()), status


CARRIED = ("name", "country", "idCardType")  # a register entry's details worth typing again


def carry_over(form: EnrolForm, args) -> None:
    """A search's picture (kept server-side: its id, which only its owner can read) and a register entry's
    details, for "Enrol this person"."""
    form.keptPicture.data = (args.get("picture") or "")[:64]
    for name in CARRIED:
        if args.get(name):
            getattr(form, name).data = args.get(name)[:255]


def enrol_rate():
    return current_app.config["RATE_LIMIT_ENROL"]


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(enrol_rate, key_func=user_or_address, methods=["POST"])
def enrol():
    form = EnrolForm()
    if request.method in ("GET", "HEAD"):
        form.submissionId.data = new_id()
        form.faceSetId.data = catalogue.default_face_set_id(request.args.get("faceSetId"))
        carry_over(form, request.args)  # "Enrol this person" from a search or the register
        return render_form(form)

    if isinstance(kept_outcome(form.submissionId.data), Enrolled):  # a refresh or a second click of a form sent
        return redirect(url_for(".result", submission_id=form.submissionId.data), 303)
    catalogue.adopt_from_sandbox(form.faceSetId.data)
    valid = form.validate_on_submit()
    picture = form.attach_picture()
    if not valid or picture is None:
        return render_form(form, status=422)

    person = form.person().traceable()
    form.externalReferenceId.data = person.external_reference_id  # shown again if the call fails
    face_set, by = form.face_set, current_user.username
    if form.checkDuplicates.data and not form.duplicatesSeen.data:
        duplicates = find_duplicates(face_set, picture, by=by)
        if isinstance(duplicates, Refused):
            return render_form(form, duplicates.problem, duplicates.problem.status)
        if duplicates:
            form.duplicatesSeen.data = "1"  # sending the form again now means "enrol anyway"
            return render_form(form, duplicates=duplicates, status=409)

    def add_and_keep_preview():
        outcome = add_face(face_set.id, person, picture, by=by, face_set_label=face_set.label)
        if not isinstance(outcome, Enrolled):
            return outcome
        return replace(outcome, picture_id=keep_preview(picture), id_number_sealed=seal(person.id_number))

    outcome = send_once(form.submissionId.data, add_and_keep_preview)
    if isinstance(outcome, Enrolled):
        return redirect(url_for(".result", submission_id=form.submissionId.data), 303)
    form.submissionId.data = new_id()  # the next attempt is a new submission
    return render_form(form, problem_of(outcome), problem_of(outcome).status)


@bp.get("/done/<submission_id>")
def result(submission_id):
    outcome = kept_result(submission_id, Enrolled)
    # The number as typed, for whoever enrolled it to check, for a few minutes; an administrator opening
    # someone else's result (and anyone later) sees it masked like everywhere else.
    mine = drafts().owner("outcome", submission_id) == current_user.username
    return render_template("enrol/result.html", result=outcome,
                           typed_id_number=unseal(outcome.id_number_sealed) if mine else None)
