"""Enrolling a face (routes.py)."""
from facesite.web.enrol.routes import bp  # noqa: F401
