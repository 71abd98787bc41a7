"""Sign in and out, the first administrator, and changing one's password."""
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from facesite.auth import bp
from facesite.auth.access import safe_next
from facesite.auth.accounts import AccountError, authenticate, create_user, setup_token_is_valid, use_setup_token
from facesite.auth.forms import LoginForm, NewUserForm, PasswordForm
from facesite.extensions import db, limiter


def login_rate():
    return current_app.config["RATE_LIMIT_LOGIN"]


def start_session(user):
    session.clear()  # a fresh session on sign-in: nothing carried over from before
    session.permanent = True  # ends after PERMANENT_SESSION_LIFETIME
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate, methods=["POST"])  # per client address
def login():
    if current_user.is_authenticated:
        return redirect(safe_next(request.args.get("next")) or url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user, problem = authenticate(form.username.data, form.password.data,
                                     current_app.config["LOGIN_MAX_FAILURES"], current_app.config["LOGIN_LOCK_MINUTES"])
        if user:
            start_session(user)
            return redirect(safe_next(request.args.get("next")) or url_for("main.index"), 303)
        flash(problem, "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/setup/<token>", methods=["GET", "POST"])
def setup(token):
    if not setup_token_is_valid(token):
        abort(404)
    form = NewUserForm(role="admin")
    del form.role  # the first account is always an administrator
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.password.data, "admin")
        except AccountError as error:
            form.username.errors = [str(error)]
        else:
            use_setup_token(token)
            start_session(user)
            flash("Administrator created. Welcome!", "info")
            return redirect(url_for("main.index"), 303)
    return render_template("auth/setup.html", form=form)


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    if current_user.password_hash is None:
        flash("Your account signs in through your company's identity provider; it has no password here.", "info")
        return redirect(url_for("main.index"))
    form = PasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current.data):
            form.current.errors = ["That is not your current password."]
        else:
            current_user.set_password(form.password.data)
            db.session.commit()
            flash("Password changed.", "info")
            return redirect(url_for("main.index"), 303)
    return render_template("auth/password.html", form=form)
