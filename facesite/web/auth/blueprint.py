"""The sign-in blueprint, shared by its three view modules (routes, oidc, reset)."""
from flask import Blueprint

from facesite.access.oidc import init_oidc
from facesite.config import settings

bp = Blueprint("auth", __name__, url_prefix="/auth")
bp.record_once(lambda state: init_oidc(state.app))  # the company's sign-in client, when AUTH_MODE=oidc


def login_rate():
    return settings().rate_limit_login
