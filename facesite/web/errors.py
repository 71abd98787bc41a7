"""Error pages: one place for 404, 413, CSRF failures and 500."""
from flask import render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from facesite.config import settings
from facesite.log_format import without_link_secrets


def register_error_handlers(app):
    def page(status, title, advice):
        # The picker on an error page goes back to the portal's home: the page asked for may not exist, and
        # a page that does not exist must read the same whatever its address (see access/policy.py).
        return render_template("errors/error.html", status=status, title=title, advice=advice,
                               picker_next=url_for("main.index")), status

    @app.errorhandler(404)
    def not_found(error):
        return page(404, _("Page not found"), _("The page or result you asked for does not exist, or it has expired."))

    @app.errorhandler(403)
    def forbidden(error):
        return page(403, _("Not for your role"),
                    _("Your account's role does not allow this page or action. An administrator can change your role."))

    @app.errorhandler(429)
    def too_many(error):
        return page(429, _("Too many requests"),
                    _("You have sent this too often in a short time. Wait a minute, then try again. (Limit: %(limit)s)",
                      limit=getattr(error, "description", "") or _("see the administrator")))

    @app.errorhandler(413)
    def too_large(error):
        # The body was refused unread, so the form cannot be shown again: say which limit it hit.
        if request.endpoint == "batch.new":
            limit_mb = settings(app).batch_max_upload_mb
            return page(413, _("That batch upload is too large"),
                        _("One batch upload may be up to %(mb)s MB (BATCH_MAX_UPLOAD_MB). Go back and split the photos "
                          "into several ZIP files.", mb=limit_mb))
        limit_mb = settings(app).max_content_length // (1024 * 1024)
        return page(413, _("That upload is far too large"),
                    _("The portal accepts uploads up to %(mb)s MB (MAX_UPLOAD_MB), text fields up to %(kb)s KB together "
                      "and %(parts)s fields in one form; the vendor only takes pictures below 2 MB. Go back, choose a "
                      "smaller picture and send the form again.", mb=limit_mb,
                      kb=settings(app).max_form_memory_size // 1024, parts=settings(app).max_form_parts))

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        return page(400, _("This form has expired"),
                    _("For your safety each form can only be sent for a limited time, from this portal. "
                      "Go back, reload the page and send it again."))

    @app.errorhandler(500)
    def server_error(error):
        app.logger.error("unhandled error on %s %s", request.method, without_link_secrets(request.path))
        return page(500, _("Something went wrong in the portal"),
                    _("Nothing you did caused this. Try again; if it keeps happening, tell the administrator."))
