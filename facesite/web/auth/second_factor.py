"""The second factor's pages: signing in, second step; setting up an authenticator app; the Security page with
new recovery codes. The rules (sealing, replay, recovery codes, who must have one) are in
access/second_factor.py; that a person who must have one sees no other page is the access policy's gate."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from facesite import security_events
from facesite.access import second_factor, sessions, throttle
from facesite.access.accounts import tries_left_warning
from facesite.config import settings
from facesite.extensions import db, limiter
from facesite.models import utcnow
from facesite.web.auth.blueprint import bp, login_rate
from facesite.web.auth.forms import FactorSetupForm, RecoveryCodesForm, SecondStepForm
from facesite.web.auth.routes import signed_in_page


@bp.route("/second-step", methods=["GET", "POST"])
@limiter.limit(login_rate, methods=["POST"])  # per client address, as signing in
def second_step():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    waiting = sessions.awaiting_second_step()
    if waiting is None:
        flash(_("Sign in with your password first; the code is asked for after it."), "info")
        return redirect(url_for("auth.login"))
    user, key, target = waiting
    form = SecondStepForm()
    if not form.validate_on_submit():
        return render_template("auth/second_step.html", form=form), 422 if form.errors else 200
    config = settings()
    locked = throttle.attempt(key, config.login_max_failures, config.login_lock_minutes)
    if locked:
        minutes = max(1, round(locked / 60))
        form.code.errors = [ngettext("Too many wrong codes: try again in about %(num)s minute.",
                                     "Too many wrong codes: try again in about %(num)s minutes.", minutes)]
        security_events.record("locked_out", actor=None, subject=user.username, detail="at the second step")
        return render_template("auth/second_step.html", form=form), 429
    code = form.code.data.strip()
    if second_factor.check_code(user, code):
        pass
    elif second_factor.use_recovery_code(user, code):
        security_events.record("recovery_code_used", actor=user.username, subject=user.username,
                               detail=f"recovery codes left: {second_factor.recovery_codes_left(user)}")
    else:
        tries_left = throttle.failed(key, config.login_max_failures, config.login_lock_minutes)
        security_events.record("second_factor_failed", actor=None, subject=user.username,
                               detail="wrong or used code at sign-in")
        form.code.errors = [_("That code is wrong or was used already."),
                            tries_left_warning(tries_left, config.login_lock_minutes)]
        return render_template("auth/second_step.html", form=form), 401
    throttle.succeeded(key)
    user.last_login_at = utcnow()
    db.session.commit()
    return signed_in_page(user, target)


def _too_many_tries(field) -> bool:
    """A session left open must not be a way to guess the factor's codes: the same limit as signing in."""
    config = settings()
    locked = throttle.attempt(f"factor-page:{current_user.id}", config.login_max_failures, config.login_lock_minutes)
    if locked:
        minutes = max(1, round(locked / 60))
        field.errors = [ngettext("Too many wrong codes: try again in about %(num)s minute.",
                                 "Too many wrong codes: try again in about %(num)s minutes.", minutes)]
    return bool(locked)


def _no_password_here():
    flash(_("Your account signs in through your company's identity provider; it asks for the second factor."),
          "info")
    return redirect(url_for("main.index"))


@bp.get("/security")
def security():  # signed-in staff only: access/policy.py
    if current_user.source != "local":
        return _no_password_here()
    return render_template("auth/security.html", factor_on=second_factor.is_on(current_user),
                           codes_left=second_factor.recovery_codes_left(current_user), form=RecoveryCodesForm(),
                           required=second_factor.required_for(current_user))


@bp.route("/security/second-factor", methods=["GET", "POST"])
def factor_setup():  # signed-in staff only; the one page open to someone who must set a factor up
    if current_user.source != "local":
        return _no_password_here()
    replacing = second_factor.is_on(current_user)
    form = FactorSetupForm()
    if form.validate_on_submit():
        if replacing and _too_many_tries(form.current):
            pass
        elif replacing and not second_factor.check_code(current_user, form.current.data or ""):
            form.current.errors = [_("That code is wrong or was used already.")]
            security_events.record("second_factor_failed", subject=current_user.username,
                                   detail="wrong current code on the setup page")
        else:
            codes = second_factor.confirm(current_user, form.code.data)
            if codes is not None:
                ended = sessions.end_all_sessions(current_user.id, keep_current=True)
                security_events.record("second_factor_on", subject=current_user.username,
                                       detail=f"{'replaced' if replacing else 'first'}; other sessions ended: {ended}")
                return render_template("auth/recovery_codes.html", codes=codes, just_turned_on=True)
            form.code.errors = [_("That code is not the one the new app shows: check the app's clock, "
                                  "and that you scanned the code on this page.")]
    secret = second_factor.pending_secret(current_user)
    return render_template("auth/factor_setup.html", form=form, replacing=replacing, secret=second_factor.grouped(secret),
                           qr_code=second_factor.qr_code(current_user, secret),
                           forced=second_factor.must_set_up(current_user)), 422 if form.errors else 200


@bp.post("/security/recovery-codes")
def recovery_codes():  # signed-in staff only: access/policy.py
    if current_user.source != "local" or not second_factor.is_on(current_user):
        return redirect(url_for("auth.security"), 303)
    form = RecoveryCodesForm()
    if not form.validate_on_submit() or _too_many_tries(form.current):
        return render_template("auth/security.html", factor_on=True, form=form,
                               codes_left=second_factor.recovery_codes_left(current_user),
                               required=second_factor.required_for(current_user)), 422
    if second_factor.check_code(current_user, form.current.data):
        throttle.succeeded(f"factor-page:{current_user.id}")
        codes = second_factor.new_recovery_codes(current_user)
        security_events.record("recovery_codes_made", subject=current_user.username)
        return render_template("auth/recovery_codes.html", codes=codes, just_turned_on=False)
    security_events.record("second_factor_failed", subject=current_user.username,
                           detail="wrong code for new recovery codes")
    form.current.errors = [_("That code is wrong or was used already.")]
    return render_template("auth/security.html", factor_on=True, form=form,
                           codes_left=second_factor.recovery_codes_left(current_user),
                           required=second_factor.required_for(current_user)), 422
