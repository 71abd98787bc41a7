"""Administrators keep the catalogue of face sets staff may use."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from requests import RequestException
from wtforms import DecimalField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from facesite import security_events
from facesite.config import settings
from facesite.extensions import db
from facesite.faces import catalogue
from facesite.models import FaceSet
from facesite.web.admin.blueprint import bp


class FaceSetForm(FlaskForm):
    id = StringField(_l("Face set id (the vendor's faceSetId)"),
                     validators=[DataRequired(), Length(max=64), Regexp(r"^\S+$", message=_l("No spaces."))])
    label = StringField(_l("Label staff will see"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    default_top_k = IntegerField(_l("Default most matches to show"), validators=[Optional(), NumberRange(1, 100)])
    default_threshold = DecimalField(_l("Default minimum score"), places=None, validators=[Optional(), NumberRange(0, 100)])
    submit = SubmitField(_l("Save"))


def _described(entry: FaceSet) -> list[tuple[str, object]]:
    """The fields an edit can change, to say in the security log what it changed."""
    return [("label", entry.label), ("description", entry.description), ("default topK", entry.default_top_k),
            ("default threshold", entry.default_threshold)]


@bp.route("/face-sets", methods=["GET", "POST"])
def face_sets():
    form = FaceSetForm()
    if form.validate_on_submit():
        if db.session.get(FaceSet, form.id.data):
            form.id.errors = [_("That face set is in the catalogue already.")]
        else:
            try:
                catalogue.add(form.id.data, form.label.data, form.description.data or "", form.default_top_k.data,
                              float(form.default_threshold.data) if form.default_threshold.data is not None else None,
                              created_by=current_user.username)
            except RequestException:
                form.id.errors = [_("The sandbox did not answer: the face set was not created there.")]
            else:
                where = " and in the sandbox" if settings().sandbox_mode else ""
                security_events.record("face_set_changed", subject=form.id.data,
                                       detail=f"added to the catalogue{where} as {form.label.data!r}")
                flash(_("Face set %(label)s added to the catalogue and in the sandbox.", label=form.label.data) if where
                      else _("Face set %(label)s added to the catalogue.", label=form.label.data), "info")
                return redirect(url_for(".face_sets"), 303)
    return render_template("admin/face_sets.html", form=form, sets=catalogue.all_face_sets()), \
        422 if form.errors else 200


@bp.route("/face-sets/<face_set_id>", methods=["GET", "POST"])
def edit_face_set(face_set_id):
    entry = db.session.get(FaceSet, face_set_id) or abort(404)
    form = FaceSetForm(obj=entry)
    form.id.data = entry.id  # the id names the vendor's set: it cannot change
    if form.validate_on_submit():
        before = _described(entry)
        entry.label, entry.description = form.label.data, form.description.data or ""
        entry.default_top_k = form.default_top_k.data
        entry.default_threshold = float(form.default_threshold.data) if form.default_threshold.data is not None else None
        db.session.commit()
        # A description can be long: the log says that it changed, not what it says.
        changes = [f"{name}: {old!r} → {new!r}" if name != "description" else "description changed"
                   for (name, old), (_, new) in zip(before, _described(entry)) if old != new]
        if changes:
            security_events.record("face_set_changed", subject=entry.id, detail="; ".join(changes))
        flash(_("Face set %(label)s saved.", label=entry.label), "info")
        return redirect(url_for(".face_sets"), 303)
    return render_template("admin/face_set_edit.html", form=form, entry=entry)
