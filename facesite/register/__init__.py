from flask import Blueprint

bp = Blueprint("register", __name__, url_prefix="/register")

from facesite.register import by_id_number, routes  # noqa: E402,F401  (register the views on bp)
