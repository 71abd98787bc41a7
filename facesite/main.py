"""Home page and the platform's health check."""
from flask import Blueprint, jsonify, redirect, url_for

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    return redirect(url_for("enrol.enrol"))


@bp.get("/healthz")
def healthz():
    # Answers without calling the vendor: a vendor outage must not get the portal restarted.
    return jsonify(status="ok")
