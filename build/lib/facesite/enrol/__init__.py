from flask import Blueprint

bp = Blueprint("enrol", __name__, url_prefix="/enrol")

from facesite.enrol import routes  # noqa: E402,F401  (registers the views on bp)
