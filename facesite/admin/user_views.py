"""Administrators manage staff accounts: create, change role, unlock."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from facesite.admin import bp
from facesite.auth.accounts import AccountError, create_user
from facesite.auth.forms import NewUserForm
from facesite.extensions import db
from facesite.models import ROLES, User


@bp.route("/users", methods=["GET", "POST"])
def users():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.password.data, form.role.data)
        except AccountError as error:
            form.username.errors = [str(error)]
        else:
            flash(f"User {user.username} created with the role {user.role}.", "info")
            return redirect(url_for(".users"), 303)
    everyone = db.session.scalars(db.select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=everyone, form=form, roles=ROLES), 422 if form.errors else 200


def _user(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


@bp.post("/users/<int:user_id>/role")
def change_role(user_id):
    user, role = _user(user_id), request.form.get("role", "")
    if role not in ROLES:
        abort(400)
    if user.id == current_user.id and role != "admin":
        flash("You cannot take the administrator role away from yourself.", "error")
    else:
        user.role = role
        db.session.commit()
        flash(f"{user.username} is now {role}.", "info")
    return redirect(url_for(".users"), 303)


@bp.post("/users/<int:user_id>/unlock")
def unlock(user_id):
    user = _user(user_id)
    user.locked_until, user.failed_logins = None, 0
    db.session.commit()
    flash(f"{user.username} can sign in again.", "info")
    return redirect(url_for(".users"), 303)
