"""Enrol a face: the form, the questions asked before enrolling, Add Face, and the result page
(post/redirect/get). The work itself is the domain layer's (``faces.enrolment``, ``faces.searching``,
``faces.detection``); this is the web side.

Before Add Face the page may stop and ask, keeping everything typed and the picture attached:
- the picture holds several faces (``faces.detection``): "Use the largest face" or "Choose another picture";
- the duplicate check (on by default, an admin setting) found people who look alike: "Same person:
  open the record" (their register entry) or "Enrol anyway"."""
from __future__ import annotations

from dataclasses import replace

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from facesite import catalogue, runtime_settings
from facesite.countries import country_options_html
from facesite.drafts import new_id
from facesite.enrol import bp
from facesite.enrol.forms import EnrolForm
from facesite.extensions import drafts, limiter
from facesite.faces.detection import FacesSeen, faces_in, outlined
from facesite.faces.enrolment import enrol as add_face
from facesite.faces.id_numbers import seal, unseal
from facesite.faces.problems import Problem
from facesite.faces.register import enrolments_for
from facesite.faces.results import Enrolled, Match, Picture, Refused
from facesite.faces.searching import find_duplicates
from facesite.pictures import keep_preview, picture_template_context
from facesite.security import user_or_address
from facesite.submissions import kept_outcome, kept_result, problem_of, send_once


def render_form(form: EnrolForm, problem: Problem | None = None, status: int = 200,
                duplicates: tuple[Match, ...] = (), faces: dict | None = None, another: bool = False):
    if problem:
        problem.mark(form)
    form.keep_picture()  # shown again: the picture stays attached
    duplicate_register = enrolments_for(form.faceSetId.data, [m.face_id for m in duplicates]) if duplicates else {}
    best_entry = duplicate_register.get(duplicates[0].face_id) if duplicates else None
    return render_template("enrol/form.html", form=form, problem=problem, duplicates=duplicates,
                           duplicate_register=duplicate_register, best_entry=best_entry, faces=faces,
                           another=another,
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


def ask_about_faces(form: EnrolForm, picture: Picture, seen: FacesSeen):
    """Stop before enrolling a picture of several people: show them, and let staff choose."""
    form.facesSeen.data = "1"  # sending the form again now means "use the largest face"
    return render_form(form, faces={"count": seen.count, "outlined": outlined(picture, seen) if seen.boxes else None},
                       status=409)


def choose_another_picture(form: EnrolForm):
    """The picture goes (and the answers about it); every other value stays, and the page points at the field."""
    form.keptPicture.data = form.preparation.data = form.facesSeen.data = form.duplicatesSeen.data = ""
    return render_form(form, another=True)


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
        form.checkDuplicates.data = runtime_settings.check_duplicates()
        return render_form(form)

    if isinstance(kept_outcome(form.submissionId.data), Enrolled):  # a refresh or a second click of a form sent
        return redirect(url_for(".result", submission_id=form.submissionId.data), 303)
    if form.otherPicture.data:
        return choose_another_picture(form)
    catalogue.adopt_from_sandbox(form.faceSetId.data)
    valid = form.validate_on_submit()
    picture = form.attach_picture()
    if not valid or picture is None:
        return render_form(form, status=422)
    if form.picture is not None:  # a new picture: what was decided about the last one no longer holds
        form.facesSeen.data = form.duplicatesSeen.data = ""

    person = form.person().traceable()
    form.externalReferenceId.data = person.external_reference_id  # shown again if the call fails
    face_set, by = form.face_set, current_user.username
    if not form.facesSeen.data:
        seen = faces_in(picture)
        if seen and seen.several:
            return ask_about_faces(form, picture, seen)
    if form.checkDuplicates.data and not form.duplicatesSeen.data:
        check = find_duplicates(face_set, picture, by=by)
        if isinstance(check, Refused):
            return render_form(form, check.problem, check.problem.status)
        several = bool(check.faces and check.faces.several and not form.facesSeen.data)  # the answer said so
        if check.matches or several:
            form.duplicatesSeen.data = "1"  # searched once: sending again means "enrol anyway"
        if check.matches:
            return render_form(form, duplicates=check.matches, status=409)
        if several:
            return ask_about_faces(form, picture, check.faces)

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
