from flask import Blueprint, abort
from flask_login import current_user

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    # Every admin view is checked here on the server, whatever the page shows.
    if not current_user.is_authenticated or not current_user.can("admin"):
        abort(403)


from facesite.admin import audit_views, face_set_views, settings_views, user_views  # noqa: E402,F401
