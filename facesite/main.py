"""Home page, kept pictures, and the platform's health check."""
from flask import Blueprint, abort, current_app, jsonify, redirect, url_for
from flask_login import current_user

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return redirect(url_for("enrol.enrol" if current_user.can("operator") else "search.search"))


@bp.get("/picture/<picture_id>")
def picture(picture_id):
    """A picture kept from a form (ids are long and random; sign-in is required, as everywhere)."""
    kept = current_app.extensions["drafts"].picture(picture_id)
    if kept is None:
        abort(404)
    data, mime_type = kept
    response = current_app.response_class(data, mimetype=mime_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/healthz")
def healthz():
    # Answers without calling the vendor: a vendor outage must not get the portal restarted.
    return jsonify(status="ok")
