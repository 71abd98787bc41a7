from flask import Blueprint

bp = Blueprint("register", __name__, url_prefix="/register")

from facesite.register import routes  # noqa: E402,F401  (registers the views on bp)
