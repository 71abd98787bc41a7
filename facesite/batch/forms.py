"""The batch upload form and the small forms of a job's buttons."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import Length, Optional, ValidationError

from facesite import catalogue
from facesite.form_fields import strip


class BatchUploadForm(FlaskForm):
    archive = FileField(_l("ZIP of photos"), validators=[FileRequired(_l("Attach a ZIP file of photos."))])
    manifest = FileField(_l("Manifest (CSV, optional)"))
    faceSetId = StringField(_l("Face set"), filters=[strip], validators=[Optional(), Length(max=120)])
    checkDuplicates = BooleanField(_l("Search the face set for each person first"))
    submit = SubmitField(_l("Check the upload"))

    def validate_faceSetId(self, field):
        entry = catalogue.resolve(field.data)
        if entry is None:
            raise ValidationError(catalogue.not_in_catalogue(field.data))
        field.data = entry.id

    def validate_archive(self, field):
        if not (field.data.filename or "").lower().endswith(".zip"):
            raise ValidationError(_("Attach a .zip file (the photos, and the manifest if it is inside)."))

    def validate_manifest(self, field):
        upload = field.data
        if upload and upload.filename and not upload.filename.lower().endswith((".csv", ".txt")):
            raise ValidationError(_("The manifest must be a .csv file (save the spreadsheet as CSV)."))


class JobActionForm(FlaskForm):
    """Every button on a job's page: only the CSRF token travels."""
