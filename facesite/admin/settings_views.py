"""Run-time settings administrators can change."""
from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from facesite import settings
from facesite.admin import bp


class SettingsForm(FlaskForm):
    prepare_pictures = BooleanField("Prepare pictures before sending them: turn them upright, convert HEIC/WebP, "
                                    "scale down, re-encode below 2 MB and remove metadata")
    submit = SubmitField("Save settings")


@bp.route("/settings", methods=["GET", "POST"])
def portal_settings():
    form = SettingsForm()
    if form.validate_on_submit():
        settings.set_prepare_pictures(form.prepare_pictures.data, current_user.username)
        flash("Settings saved.", "info")
        return redirect(url_for(".portal_settings"), 303)
    form.prepare_pictures.data = settings.prepare_pictures()
    return render_template("admin/settings.html", form=form)
