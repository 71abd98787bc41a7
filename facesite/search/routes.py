"""Search a face set (1:N): the form, the charged call, and the ranked results (post/redirect/get).
The work itself is the domain layer's (``faces.searching``); this is the web side."""
from __future__ import annotations

from dataclasses import replace

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from facesite import catalogue
from facesite.drafts import new_id
from facesite.extensions import limiter
from facesite.faces import searching
from facesite.faces.problems import Problem
from facesite.faces.register import enrolments_for
from facesite.faces.results import SearchResult
from facesite.pictures import picture_template_context
from facesite.search import bp
from facesite.search.forms import SearchForm
from facesite.security import user_or_address
from facesite.submissions import kept_result, problem_of, send_once


def search_rate():
    return current_app.config["RATE_LIMIT_SEARCH"]


def render_form(form: SearchForm, problem: Problem | None = None, status: int = 200):
    if problem:
        problem.mark(form)
    form.keep_picture()  # shown again: the picture stays attached
    return render_template("search/form.html", form=form, problem=problem, **picture_template_context()), status


@bp.route("/", methods=["GET", "POST"])
@limiter.limit(search_rate, key_func=user_or_address, methods=["POST"])
def search():
    form = SearchForm()
    if request.method in ("GET", "HEAD"):
        form.submissionId.data = new_id()
        form.faceSetId.data = catalogue.default_face_set_id(request.args.get("faceSetId"))
        form.keptPicture.data = request.args.get("picture", "")  # "search again" keeps the picture
        form.topK.data = request.args.get("topK", type=int)
        form.threshold.data = request.args.get("threshold", type=float)
        return render_form(form)

    catalogue.adopt_from_sandbox(form.faceSetId.data)
    valid = form.validate_on_submit()
    picture = form.attach_picture()
    if not valid or picture is None:
        return render_form(form, status=422)
    top_k, threshold = searching.search_settings(form.face_set, form.topK.data, form.threshold.data)
    form.topK.data, form.threshold.data = top_k, threshold  # shown again if the call fails
    face_set, by = form.face_set, current_user.username
    picture = replace(picture, kept_id=form.keep_picture())  # the results page shows it and searches again with it
    outcome = send_once(form.submissionId.data,
                        lambda: searching.search(face_set, picture, by=by, top_k=top_k, threshold=threshold))
    if isinstance(outcome, SearchResult):
        return redirect(url_for(".results", submission_id=form.submissionId.data), 303)
    form.submissionId.data = new_id()  # the next attempt is a new submission
    return render_form(form, problem_of(outcome), problem_of(outcome).status)


@bp.get("/results/<submission_id>")
def results(submission_id):
    outcome = kept_result(submission_id, SearchResult)
    register = enrolments_for(outcome.face_set_id, [m.face_id for m in outcome.matches])
    return render_template("search/results.html", result=outcome, matches=outcome.matches, register=register,
                           compare_with=outcome.picture_id,
                           lower_threshold=None if outcome.matches else searching.lower_threshold(outcome.threshold))
