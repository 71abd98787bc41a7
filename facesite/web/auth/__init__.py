"""Signing in and out: passwords (routes.py), the company's OpenID Connect provider (oidc.py) and one-time
reset links (reset.py), and the second factor (second_factor.py), on one blueprint (blueprint.py)."""
from facesite.web.auth import oidc, reset, routes, second_factor  # noqa: F401  (their views join the blueprint)
from facesite.web.auth.blueprint import bp  # noqa: F401
