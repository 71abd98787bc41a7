from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from facesite.access.oidc import init_oidc  # noqa: E402
from facesite.auth import oidc, reset, routes  # noqa: E402,F401  (registers the views on bp)

bp.record_once(lambda state: init_oidc(state.app))  # the company's sign-in client, when AUTH_MODE=oidc
