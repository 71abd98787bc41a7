"""Home page, kept pictures, the icon's old fixed address, and the platform's health check."""
from flask import Blueprint, abort, current_app, jsonify, redirect, url_for
from flask_login import current_user

from facesite.access.policy import draft_reader
from facesite.drafts import drafts

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return redirect(url_for("enrol.enrol" if current_user.can("operator") else "search.search"))


@bp.get("/picture/<picture_id>")
def picture(picture_id):
    """A picture kept from a form: only for whoever sent it (and administrators); anyone else gets the
    404 of a picture that does not exist."""
    kept = drafts().picture(picture_id, draft_reader())
    if kept is None:
        abort(404)
    data, mime_type = kept
    return current_app.response_class(data, mimetype=mime_type)  # never cached: see security.no_store


@bp.get("/favicon.ico")
def favicon():
    # Pages name the icon in base.html; this answers browsers and tools that ask the old fixed address.
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/healthz")
def healthz():
    # Answers without calling the vendor: a vendor outage must not get the portal restarted.
    return jsonify(status="ok")
