"""Enrol a face: the form, the questions asked before enrolling, Add Face, and the result page
(post/redirect/get). The work itself is the domain layer's (``faces.enrolment``, ``faces.searching``,
``faces.detection``); this is the web side.

Before Add Face the page may stop and ask, keeping everything typed and the picture attached:
- the picture holds several faces: "Use the largest face" or "Choose another picture";
- the duplicate check (on by default, an admin setting) found people who look alike: "Same person:
  open the record" (their register entry) or "Enrol anyway"."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from facesite import runtime_settings
from facesite.config import settings
from facesite.countries import country_options_html
from facesite.drafts import drafts
from facesite.extensions import limiter
from facesite.faces import (Enrolled, FacesSeen, LikelyDuplicates, Match, Picture, Problem, Refused, SeveralFaces,
                            ask_before_enrolling, enrol as add_face, enrolments_for, outlined)
from facesite.id_numbers import seal, unseal
from facesite.web.enrol.forms import EnrolForm
from facesite.web.picture_field import keep_preview, picture_template_context
from facesite.web.security import user_or_address
from facesite.web.submissions import kept_outcome, kept_result, page_after_sending, send_once

bp = Blueprint("enrol", __name__, url_prefix="/enrol")


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
    return settings().rate_limit_enrol


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(enrol_rate, key_func=user_or_address, methods=["POST"])
def enrol():
    form = EnrolForm()
    if request.method in ("GET", "HEAD"):
        form.start(request.args)
        carry_over(form, request.args)  # "Enrol this person" from a search or the register
        form.checkDuplicates.data = runtime_settings.check_duplicates()
        return render_form(form)

    if isinstance(kept_outcome(form.submissionId.data), Enrolled):  # a refresh or a second click of a form sent
        return redirect(url_for(".result", submission_id=form.submissionId.data), 303)
    if form.otherPicture.data:
        return choose_another_picture(form)
    picture = form.checked_picture()
    if picture is None:
        return render_form(form, status=422)
    if form.picture is not None:  # a new picture: what was decided about the last one no longer holds
        form.facesSeen.data = form.duplicatesSeen.data = ""

    person = form.person().traceable()
    form.externalReferenceId.data = person.external_reference_id  # shown again if the call fails
    face_set, by = form.face_set, current_user.username
    question = ask_before_enrolling(face_set, picture, by=by, check_duplicates=bool(form.checkDuplicates.data),
                                    largest_face_chosen=bool(form.facesSeen.data),
                                    duplicates_answered=bool(form.duplicatesSeen.data))
    if isinstance(question, Refused):
        return render_form(form, question.problem, question.problem.status)
    if isinstance(question, LikelyDuplicates) or (isinstance(question, SeveralFaces) and question.searched):
        form.duplicatesSeen.data = "1"  # searched once: sending again means "enrol anyway"
    if isinstance(question, LikelyDuplicates):
        return render_form(form, duplicates=question.matches, status=409)
    if isinstance(question, SeveralFaces):
        return ask_about_faces(form, picture, question.seen)

    def add_and_keep_preview():
        outcome = add_face(face_set.id, person, picture, by=by, face_set_label=face_set.label)
        if not isinstance(outcome, Enrolled):
            return outcome
        if person.id_number:  # kept apart from the outcome, for ID_NUMBER_SHOWN_MINUTES only
            drafts().keep_sealed(form.submissionId.data, seal(person.id_number), by)
        return replace(outcome, picture_id=keep_preview(picture))

    outcome = send_once(form.submissionId.data, add_and_keep_preview)
    return page_after_sending(form, outcome, Enrolled, ".result", render_form)


@bp.get("/done/<submission_id>")
def result(submission_id):
    outcome = kept_result(submission_id, Enrolled)
    # The number as typed, for whoever enrolled it to check, for a few minutes; an administrator opening
    # someone else's result (and anyone later) sees it masked like everywhere else.
    mine = drafts().owner("outcome", submission_id) == current_user.username
    return render_template("enrol/result.html", result=outcome,
                           typed_id_number=unseal(drafts().sealed(submission_id, current_user.username)) if mine else None)
