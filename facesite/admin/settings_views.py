"""Run-time settings administrators can change."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from facesite import runtime_settings, security_events
from facesite.admin import bp


class SettingsForm(FlaskForm):
    prepare_pictures = BooleanField(_l("Prepare pictures before sending them: turn them upright, convert HEIC/WebP, "
                                       "scale down, re-encode below 2 MB and remove metadata"))
    submit = SubmitField(_l("Save settings"))


def _on_off(value: bool) -> str:
    return "on" if value else "off"


@bp.route("/settings", methods=["GET", "POST"])
def portal_settings():
    form = SettingsForm()
    if form.validate_on_submit():
        before, after = runtime_settings.prepare_pictures(), form.prepare_pictures.data
        runtime_settings.set_prepare_pictures(after, current_user.username)
        if before != after:
            security_events.record("setting_changed", subject=runtime_settings.PREPARE_PICTURES,
                                   detail=f"{_on_off(before)} → {_on_off(after)}")
        flash(_("Settings saved."), "info")
        return redirect(url_for(".portal_settings"), 303)
    form.prepare_pictures.data = runtime_settings.prepare_pictures()
    return render_template("admin/settings.html", form=form)
