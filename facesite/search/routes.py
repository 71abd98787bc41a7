"""Search a face set (1:N): the form, the charged call, and the ranked results (post/redirect/get)."""
from __future__ import annotations

from flask import abort, current_app, redirect, render_template, request, url_for

from facesite import catalogue
from facesite.advance import AdvanceError
from facesite.auth.policy import draft_reader
from facesite.drafts import new_id
from facesite.extensions import limiter
from facesite.outcomes import Problem, explain
from facesite.pictures import picture_template_context
from facesite.register.records import enrolments_for
from facesite.search import bp
from facesite.search.forms import SearchForm
from facesite.search.matches import matches_from
from facesite.security import user_or_address
from facesite.submissions import send_once
from facesite.upstream import vendor


def search_rate():
    return current_app.config["RATE_LIMIT_SEARCH"]


def render_form(form: SearchForm, problem: Problem | None = None, status: int = 200):
    if problem:
        problem.mark(form)
    return render_template("search/form.html", form=form, problem=problem, face_set_options=catalogue.options_html(),
                           **picture_template_context()), status


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

    valid = form.validate_on_submit()
    picture = form.attach_picture()
    if not valid or picture is None:
        return render_form(form, status=422)
    form.apply_face_set_defaults()
    outcome = send_once(form.submissionId.data, lambda: run_search(form, picture))
    if outcome["state"] == "done":
        return redirect(url_for(".results", submission_id=form.submissionId.data), 303)
    form.submissionId.data = new_id()
    problem = Problem(**outcome["problem"])
    return render_form(form, problem, problem.status)


def run_search(form: SearchForm, picture) -> dict:
    data, facts = picture
    threshold = float(form.threshold.data)
    try:
        answer = vendor().search(form.faceSetId.data, data, filename=f"face{facts.extension}",
                                 mime_type=facts.mime_type, top_k=form.topK.data, threshold=threshold)
    except AdvanceError as error:
        return {"state": "failed", "problem": explain(error).to_dict()}
    return {"state": "done", "faceSetId": form.faceSetId.data, "faceSetLabel": form.face_set.label,
            "topK": form.topK.data, "threshold": threshold, "pictureId": form.keptPicture.data,
            "matches": matches_from(answer.data, current_app.config["SCORE_FIELD"]),
            "transactionId": answer.transaction_id, "pricingStrategy": answer.pricing_strategy}


@bp.get("/results/<submission_id>")
def results(submission_id):
    outcome = current_app.extensions["drafts"].outcome(submission_id, draft_reader())
    if not outcome or outcome["state"] != "done" or "matches" not in outcome:  # an enrolment's id is not a search
        abort(404)
    register = enrolments_for(outcome["faceSetId"], [m["faceId"] for m in outcome["matches"]])
    return render_template("search/results.html", result=outcome, matches=outcome["matches"], register=register)
