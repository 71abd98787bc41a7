from flask import Blueprint

bp = Blueprint("batch", __name__, url_prefix="/batch")

from facesite.batch import routes  # noqa: E402,F401  (registers the views on bp)
