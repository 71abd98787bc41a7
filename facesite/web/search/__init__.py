"""Searching a face set (routes.py)."""
from facesite.web.search.routes import bp  # noqa: F401
