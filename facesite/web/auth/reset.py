"""Choosing a new password through a one-time reset link an administrator made (access/password_reset.py).

The page names the account the link is for and asks for the new password twice, under the same rules
as everywhere. A link used already, expired, replaced by a newer one or never made gets a page saying
which, with nothing else. The link's secret part is in the path, which the request log hides
(log_format.py), and the page asks the browser to send no Referer from it (templates/auth/reset.html).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from facesite.access import links, password_reset, sessions
from facesite.access.forms import NewPasswordForm
from facesite.access.sign_on import passwords_allowed
from facesite.extensions import limiter
from facesite.web.auth.blueprint import bp, login_rate

GONE = 410  # a link that was real but works no more; a link never made is a plain 404


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limiter.limit(login_rate, methods=["POST"])  # per client address, as signing in
def reset_password(token):
    if not passwords_allowed():
        abort(404)
    found = links.look_up(links.RESET, token)
    state, user = password_reset.account_for(found)
    form = NewPasswordForm(account_name=user.username if user is not None else None)
    if user is not None and form.validate_on_submit():
        if password_reset.set_new_password(found.link, user, form.password.data):
            if current_user.is_authenticated:  # someone else's session in this browser: the owner signs in next
                sessions.end_current()
                logout_user()
            flash(_("Your new password is set, %(name)s. Sign in with it.", name=user.username), "info")
            return redirect(url_for("auth.login"), 303)
        state, user = links.USED, None  # another request used the link a moment ago
    if user is None:
        return render_template("auth/reset.html", state=state, link=found.link, form=None), \
            404 if state == links.UNKNOWN else GONE
    return render_template("auth/reset.html", state=state, link=found.link, user=user, form=form,
                           signed_in_as=current_user.username if current_user.is_authenticated else None), \
        422 if form.errors else 200
