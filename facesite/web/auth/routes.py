"""Sign in and out, the first administrator, and changing one's password."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm

from facesite import security_events
from facesite.access import passwords, sessions, throttle
from facesite.access.accounts import (AccountError, authenticate, create_first_administrator, no_users_yet,
                                      setup_token_is_valid)
from facesite.access.forms import NewUserForm, PasswordForm
from facesite.access.sign_on import passwords_allowed, safe_next
from facesite.config import settings
from facesite.extensions import db, limiter
from facesite.web.auth.blueprint import bp, login_rate
from facesite.web.auth.forms import LoginForm
from facesite.web.auth.oidc import provider_sign_out, same_origin_as_issuer


@bp.context_processor
def first_administrator():
    # A function, so only the sign-in page's template asks the database, and only when it shows that hint.
    return {"awaiting_first_admin": no_users_yet}


def signed_in_page(user, target):
    """Start the session and remember this browser as one that knows the account (see throttle.py)."""
    sessions.begin(user)
    security_events.record("sign_in", actor=user.username, subject=user.username)
    response = redirect(target, 303)
    response.set_cookie(throttle.DEVICE_COOKIE,
                        throttle.new_device_cookie(user.username, request.cookies.get(throttle.DEVICE_COOKIE)),
                        max_age=throttle.DEVICE_COOKIE_DAYS * 86400, httponly=True, path=url_for("auth.login"),
                        secure=settings().session_cookie_secure,
                        samesite=settings().session_cookie_samesite)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate, methods=["POST"])  # per client address
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    if not passwords_allowed():
        if settings().auth_mode == "oidc":  # the company's sign-in button alone
            return render_template("auth/login.html", form=None), 200 if request.method == "GET" else 401
        # header sign-on: the identity proxy signs staff in, never a password here
        return render_template("auth/proxy_only.html"), 401
    form = LoginForm()
    if form.validate_on_submit():
        config = settings()
        outcome = authenticate(form.username.data, form.password.data, request.cookies.get(throttle.DEVICE_COOKIE),
                               config.login_max_failures, config.login_lock_minutes)
        if outcome.user and outcome.second_step:
            sessions.await_second_step(outcome.user, outcome.throttle_key,
                                       safe_next(request.args.get("next")) or url_for("main.index"))
            return redirect(url_for("auth.second_step"), 303)
        if outcome.user:
            return signed_in_page(outcome.user, safe_next(request.args.get("next")) or url_for("main.index"))
        event = "locked_out" if outcome.locked_seconds else "sign_in_failed"
        # Only a real account is named: what someone typed as a name may be their password.
        security_events.record(event, actor=None, subject=outcome.account_name or "(no such account)",
                               detail="browser known to the account" if outcome.throttle_key.startswith("device:")
                               else None)
        flash(outcome.problem, "error")
        if outcome.warning:
            flash(outcome.warning, "warning")
        return render_template("auth/login.html", form=form), 429 if outcome.locked_seconds else 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    company_account = current_user.is_authenticated and current_user.source == "oidc"
    if current_user.is_authenticated:
        security_events.record("sign_out", subject=current_user.username)
    id_token = sessions.end_current()
    logout_user()
    flash(_("You are signed out."), "info")
    provider_logout = provider_sign_out(id_token) if company_account else None
    if provider_logout and same_origin_as_issuer(provider_logout):
        return redirect(provider_logout, 303)  # RP-initiated logout: the provider sends the browser back here
    if not passwords_allowed() or provider_logout:
        return render_template("auth/signed_out.html", provider_logout=provider_logout)
    return redirect(url_for("auth.login"), 303)


@bp.get("/sessions")
def your_sessions():
    """Where one's own account is signed in now, and a button that ends every other session (ASVS 3.3.4)."""
    return render_template("auth/sessions.html", sessions=sessions.open_sessions(current_user.id), form=FlaskForm())


@bp.post("/sessions/end-others")
def end_other_sessions():
    if FlaskForm().validate_on_submit():
        ended = sessions.end_all_sessions(current_user.id, keep_current=True)
        security_events.record("sign_out", subject=current_user.username,
                               detail=f"other sessions ended by their owner: {ended}")
        flash(ngettext("%(num)d other session ended.", "%(num)d other sessions ended.", ended) if ended
              else _("No other session was open."), "info")
    return redirect(url_for(".your_sessions"), 303)


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token):
    if not passwords_allowed() or not setup_token_is_valid(token):
        abort(404)
    form = NewUserForm(role="admin")
    del form.role  # the first account is always an administrator
    if form.validate_on_submit():
        try:
            user = create_first_administrator(token, form.username.data, form.password.data)
        except AccountError as error:
            form.username.errors = [str(error)]
        else:
            if user is None:  # another request used the link a moment ago
                abort(404)
            security_events.record("user_created", actor=user.username, subject=user.username,
                                   detail="first administrator, from the setup link")
            sessions.begin(user)
            flash(_("Administrator created. Welcome!"), "info")
            return redirect(url_for("main.index"), 303)
    return render_template("auth/setup.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
def password():  # signed-in staff only: access/policy.py
    if current_user.password_hash is None:
        flash(_("Your account signs in through your company's identity provider; it has no password here."), "info")
        return redirect(url_for("main.index"))
    form = PasswordForm(account_name=current_user.username)
    if form.validate_on_submit():
        # A session left open must not become a way to guess the password: the same limit as signing in.
        config, key = settings(), f"password-page:{current_user.id}"
        locked = throttle.attempt(key, config.login_max_failures, config.login_lock_minutes)
        if locked:
            minutes = max(1, round(locked / 60))
            form.current.errors = [ngettext("Too many wrong current passwords: try again in about %(num)s minute.",
                                            "Too many wrong current passwords: try again in about %(num)s minutes.",
                                            minutes)]
            security_events.record("locked_out", subject=current_user.username, detail="on the password page")
        elif not current_user.check_password(form.current.data):
            form.current.errors = [_("That is not your current password.")]
            security_events.record("sign_in_failed", subject=current_user.username,
                                   detail="wrong current password on the password page")
        else:
            throttle.succeeded(key)
            passwords.set_password(current_user, form.password.data)
            db.session.commit()
            ended = sessions.end_all_sessions(current_user.id, keep_current=True)
            security_events.record("password_changed", subject=current_user.username,
                                   detail=f"other sessions ended: {ended}")
            flash(_("Password changed. Any other place where you were signed in is now signed out."), "info")
            return redirect(url_for("main.index"), 303)
    return render_template("auth/password.html", form=form)
