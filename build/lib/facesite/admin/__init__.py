from flask import Blueprint

# Who may use these views (administrators) is decided in facesite/access/policy.py, like every other.
bp = Blueprint("admin", __name__, url_prefix="/admin")


from facesite.admin import audit_views, face_set_views, settings_views, user_views  # noqa: E402,F401
