"""Administrators' pages: staff accounts, the face-set catalogue, run-time settings, the audit trail and the
security log, on one blueprint (blueprint.py)."""
from facesite.web.admin import audit_views, face_set_views, settings_views, user_views  # noqa: F401
from facesite.web.admin.blueprint import bp  # noqa: F401
