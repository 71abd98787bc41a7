"""Run-time settings administrators can change."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SubmitField

from facesite import runtime_settings, security_events
from facesite.web.admin.blueprint import bp


class SettingsForm(FlaskForm):
    prepare_pictures = BooleanField(_l("Prepare pictures before sending them: turn them upright, convert HEIC/WebP, "
                                       "scale down, re-encode below 2 MB and remove metadata"))
    check_duplicates = BooleanField(_l("Search the face set for the person before each enrolment "
                                       "(ticked on the enrol form)"))
    submit = SubmitField(_l("Save settings"))


# Each setting on the page: (form field and setting key, read it, save it).
SETTINGS = ((runtime_settings.PREPARE_PICTURES, runtime_settings.prepare_pictures,
             runtime_settings.set_prepare_pictures),
            (runtime_settings.CHECK_DUPLICATES, runtime_settings.check_duplicates,
             runtime_settings.set_check_duplicates))


def _on_off(value: bool) -> str:
    return "on" if value else "off"


@bp.route("/settings", methods=["GET", "POST"])
def portal_settings():
    form = SettingsForm()
    if form.validate_on_submit():
        for key, read, save in SETTINGS:
            before, after = read(), form[key].data
            save(after, current_user.username)
            if before != after:
                security_events.record("setting_changed", subject=key, detail=f"{_on_off(before)} → {_on_off(after)}")
        flash(_("Settings saved."), "info")
        return redirect(url_for(".portal_settings"), 303)
    for key, read, _save in SETTINGS:
        form[key].data = read()
    return render_template("admin/settings.html", form=form)
