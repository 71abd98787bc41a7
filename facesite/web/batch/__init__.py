"""Batch enrolment pages (routes.py); the engine that runs the jobs is facesite/batch."""
from facesite.web.batch.routes import bp  # noqa: F401
