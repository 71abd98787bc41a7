"""Administrators manage staff accounts: create, change role, unlock, set a password or make a one-time
link to choose one, disable, re-enable and remove.

Every change to an account ends that person's open sessions (whatever they could do a moment ago
must not outlive the change) and is written to the security log. A reset link is the exception: it
changes nothing until the new password is set through it (access/password_reset.py). No change may
leave the portal without an enabled administrator, and an administrator cannot lock themself out.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from facesite import security_events
from facesite.access import password_reset, passwords, second_factor, throttle
from facesite.access.accounts import AccountError, create_user
from facesite.access.forms import NewPasswordForm, NewUserForm
from facesite.access.sessions import end_all_sessions
from facesite.extensions import db
from facesite.i18n_names import role_name
from facesite.models import ROLES, User, utcnow
from facesite.web.admin.audit_query import events_about
from facesite.web.admin.blueprint import bp

ENABLED_ADMIN = (User.role == "admin", User.disabled_at.is_(None))
HISTORY_ROWS = 10  # security events shown on a user's page; the security log has the rest


def _locked_user_ids(people: list[User]) -> set[int]:
    """Who is locked out by the sign-in throttle (one query for the whole list)."""
    held = throttle.locked_names(person.username for person in people)
    return {person.id for person in people if person.username in held}


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.password.data, form.role.data)
        except AccountError as error:
            form.username.errors = [str(error)]
        else:
            security_events.record("user_created", subject=user.username, detail=f"role {user.role}")
            flash(_("User %(name)s created with the role %(role)s.", name=user.username, role=role_name(user.role)), "info")
            return redirect(url_for(".users"), 303)
    everyone = db.session.scalars(db.select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=everyone, locked=_locked_user_ids(everyone), form=form,
                           roles=ROLES), 422 if form.errors else 200


def _user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.get("/users/<int:user_id>")
def user_page(user_id):
    user = _user(user_id)
    return _render_user_page(user, NewPasswordForm(account_name=user.username))


def _render_user_page(user: User, form: NewPasswordForm, status: int = 200, reset_link: dict | None = None):
    return render_template("admin/user.html", user=user, form=form, roles=ROLES,
                           locked=bool(_locked_user_ids([user])), reset_link=reset_link,
                           factor_on=second_factor.is_on(user),
                           history=events_about(user.username, HISTORY_ROWS)), status


def _save_keeping_an_admin(user: User, change: Callable[[], None], own_account_refusal: str) -> str | None:
    """Make ``change`` and commit it, unless it leaves no enabled administrator or is made by an
    administrator to their own account. Returns why it was refused, or None when it was saved."""
    # PostgreSQL: lock the enabled administrators' rows first (always in the same order, so two requests
    # cannot deadlock), so two administrators disabling each other at the same moment are taken in turn
    # and the second sees the first one's change. SQLite has one writer at a time anyway.
    db.session.execute(select(User.id).where(*ENABLED_ADMIN).order_by(User.id).with_for_update()).all()
    username, own_account = user.username, user.id == current_user.id
    change()
    db.session.flush()
    if not db.session.scalar(select(func.count()).select_from(User).where(*ENABLED_ADMIN)):
        problem = _("%(name)s is the last enabled administrator: make someone else an administrator first.", name=username)
    elif own_account:
        problem = own_account_refusal
    else:
        db.session.commit()
        return None
    db.session.rollback()
    return problem


def _sessions_ended(user_id: int) -> str:
    # An administrator changing their own account (a password, an unlock) keeps the session they act from.
    ended = end_all_sessions(user_id, keep_current=user_id == current_user.id)
    return f"open sessions ended: {ended}"


def _done(message: str):
    flash(message, "info")
    return redirect(url_for(".users"), 303)


def _refused(problem: str):
    flash(problem, "error")
    return redirect(url_for(".users"), 303)


@bp.post("/users/<int:user_id>/role")
def change_role(user_id):
    user, role = _user(user_id), request.form.get("role", "")
    if role not in ROLES:
        abort(400)
    before = user.role
    if role == before:
        return _done(_("%(name)s is %(role)s already: nothing changed.", name=user.username, role=role_name(role)))

    def give_role():
        user.role = role

    problem = _save_keeping_an_admin(user, give_role, _("You cannot take the administrator role away from yourself."))
    if problem:
        return _refused(problem)
    ended = _sessions_ended(user.id)
    security_events.record("role_changed", subject=user.username, detail=f"{before} → {role}; {ended}")
    return _done(_("%(name)s is now %(role)s. They must sign in again.", name=user.username, role=role_name(role)))


@bp.post("/users/<int:user_id>/disable")
def disable(user_id):
    user = _user(user_id)
    if user.disabled_at is not None:
        return _done(_("%(name)s is disabled already.", name=user.username))

    def mark_disabled():
        user.disabled_at = utcnow()

    problem = _save_keeping_an_admin(user, mark_disabled, _("You cannot disable your own account."))
    if problem:
        return _refused(problem)
    security_events.record("user_disabled", subject=user.username, detail=_sessions_ended(user.id))
    return _done(_("%(name)s is disabled: they are signed out and cannot sign in.", name=user.username))


@bp.post("/users/<int:user_id>/enable")
def enable(user_id):
    user = _user(user_id)
    if user.disabled_at is None:
        return _done(_("%(name)s is enabled already.", name=user.username))
    user.disabled_at = None
    db.session.commit()
    security_events.record("user_enabled", subject=user.username, detail=_sessions_ended(user.id))
    return _done(_("%(name)s is enabled and can sign in again.", name=user.username))


@bp.route("/users/<int:user_id>/remove", methods=["GET", "POST"])
def remove(user_id):
    user = _user(user_id)
    if request.method != "POST":  # GET and HEAD only ask; removing takes the confirmation form's POST
        return render_template("admin/user_remove.html", user=user)
    username, role, own_id = user.username, user.role, user.id
    def remove_account():
        second_factor.remove(user.id)  # SQLite keeps no foreign keys: its factor and codes go by hand
        db.session.delete(user)

    problem = _save_keeping_an_admin(user, remove_account, _("You cannot remove your own account."))
    if problem:
        return _refused(problem)
    security_events.record("user_removed", subject=username, detail=f"was {role}; {_sessions_ended(own_id)}")
    return _done(_("%(name)s is removed. Their past actions stay in the audit and security logs.", name=username))


@bp.post("/users/<int:user_id>/second-factor/reset")
def reset_factor(user_id):
    """The person lost their app and recovery codes: they set a new factor up at their next sign-in."""
    user = _user(user_id)
    second_factor.remove(user.id)
    db.session.commit()
    security_events.record("second_factor_reset", subject=user.username, detail=_sessions_ended(user.id))
    flash(_("The second factor of %(name)s is reset: they are signed out everywhere and set a new one up on their "
            "Security page.", name=user.username), "info")
    return redirect(url_for(".user_page", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/unlock")
def unlock(user_id):
    user = _user(user_id)
    throttle.clear(user.username)
    security_events.record("unlocked", subject=user.username, detail=_sessions_ended(user.id))
    return _done(_("%(name)s can sign in again.", name=user.username))


def _own_password_refused(user: User):
    """One's own password needs the current one: the Password page asks for it (a session left open must
    not be a way to take the account over). The answer to give, or None for someone else's account."""
    if user.id != current_user.id:
        return None
    flash(_("Change your own password on the Password page, which asks for the current one."), "error")
    return redirect(url_for("auth.password"), 303)


@bp.post("/users/<int:user_id>/password")
def set_password(user_id):
    user = _user(user_id)
    if user.source != "local":
        abort(400)  # proxy accounts sign in through the identity proxy only
    refused = _own_password_refused(user)
    if refused:
        return refused
    form = NewPasswordForm(account_name=user.username)
    if not form.validate_on_submit():
        return _render_user_page(user, form, 422)
    passwords.set_password(user, form.password.data)
    db.session.commit()
    security_events.record("user_changed", subject=user.username,
                           detail=f"password set by an administrator; {_sessions_ended(user.id)}")
    flash(_("New password set for %(name)s. Tell it to them; they can change it.", name=user.username), "info")
    return redirect(url_for(".user_page", user_id=user.id), 303)


@bp.post("/users/<int:user_id>/reset-link")
def reset_link(user_id):
    """A one-time link for the person to choose a new password, shown on this answer only (never stored)."""
    user = _user(user_id)
    refused = _own_password_refused(user)
    if refused:
        return refused
    try:
        token, link = password_reset.make_link(user, current_user.username)
    except AccountError as error:
        return _refused(str(error))
    shown = {"address": password_reset.address(token), "expires_at": link.expires_at}
    return _render_user_page(user, NewPasswordForm(formdata=None, account_name=user.username), reset_link=shown)
