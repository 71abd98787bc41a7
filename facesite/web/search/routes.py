"""Search a face set (1:N): the form, the charged call, and the ranked results (post/redirect/get).
The work itself is the domain layer's (``faces.searching``); this is the web side."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, render_template, request
from flask_login import current_user

from facesite.config import settings
from facesite.extensions import limiter
from facesite.faces import Problem, SearchResult, enrolments_for, searching
from facesite.web.picture_field import picture_template_context
from facesite.web.search.forms import SearchForm
from facesite.web.security import user_or_address
from facesite.web.submissions import kept_result, page_after_sending, send_once

bp = Blueprint("search", __name__, url_prefix="/search")


def search_rate():
    return settings().rate_limit_search


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
        form.start(request.args)
        form.keptPicture.data = request.args.get("picture", "")  # "search again" keeps the picture
        form.topK.data = request.args.get("topK", type=int)
        form.threshold.data = request.args.get("threshold", type=float)
        return render_form(form)

    picture = form.checked_picture()
    if picture is None:
        return render_form(form, status=422)
    top_k, threshold = searching.search_settings(form.face_set, form.topK.data, form.threshold.data)
    form.topK.data, form.threshold.data = top_k, threshold  # shown again if the call fails
    face_set, by = form.face_set, current_user.username
    picture = replace(picture, kept_id=form.keep_picture())  # the results page shows it and searches again with it
    outcome = send_once(form.submissionId.data,
                        lambda: searching.search(face_set, picture, by=by, top_k=top_k, threshold=threshold))
    return page_after_sending(form, outcome, SearchResult, ".results", render_form)


@bp.get("/results/<submission_id>")
def results(submission_id):
    outcome = kept_result(submission_id, SearchResult)
    register = enrolments_for(outcome.face_set_id, [m.face_id for m in outcome.matches])
    return render_template("search/results.html", result=outcome, matches=outcome.matches, register=register,
                           compare_with=outcome.picture_id,
                           lower_threshold=None if outcome.matches else searching.lower_threshold(outcome.threshold))
