"""The batch upload form and the small forms of a job's buttons."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, StringField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError

from facesite.web.form_fields import FaceSetChoice, face_set_field, strip


def _csv_only(upload) -> None:
    if upload and upload.filename and not upload.filename.lower().endswith((".csv", ".txt")):
        raise ValidationError(_("The manifest must be a .csv file (save the spreadsheet as CSV)."))


class BatchUploadForm(FaceSetChoice, FlaskForm):
    # First and required: a ZIP without a manifest, and every row without a faceSetId, needs it.
    faceSetId = face_set_field(InputRequired(_l("Choose the face set to enrol into.")))
    archive = FileField(_l("ZIP of photos"), validators=[FileRequired(_l("Attach a ZIP file of photos."))])
    manifest = FileField(_l("Manifest (CSV, optional)"))
    checkDuplicates = BooleanField(_l("Search the face set for each person first"))
    submit = SubmitField(_l("Check the upload"))

    def received(self) -> list[str]:
        """The names of the files this request brought (said on the page when the form comes back)."""
        return [upload.filename for upload in (self.archive.data, self.manifest.data)
                if upload is not None and getattr(upload, "filename", "")]

    def validate_archive(self, field):
        if not (field.data.filename or "").lower().endswith(".zip"):
            raise ValidationError(_("Attach a .zip file (the photos, and the manifest if it is inside)."))

    def validate_manifest(self, field):
        _csv_only(field.data)


class JobActionForm(FlaskForm):
    """Every button on a job's page: only the CSRF token travels."""


class ManifestForm(FlaskForm):
    """A corrected manifest for a batch under review, checked against the ZIP the job keeps."""
    manifest = FileField(_l("Corrected manifest (CSV)"), validators=[FileRequired(_l("Choose the corrected CSV file."))])

    def validate_manifest(self, field):
        _csv_only(field.data)


class RowFixForm(FlaskForm):
    """Cells of one row typed again on the review page; only the cells sent are changed."""
    faceSetId = StringField(filters=[strip], validators=[Length(max=255)])
    faceImage = StringField(filters=[strip], validators=[Length(max=255)])
    externalReferenceId = StringField(filters=[strip], validators=[Length(max=255)])
    idNumber = StringField(filters=[strip], validators=[Length(max=255)])
    idCardType = StringField(filters=[strip], validators=[Length(max=255)])
    country = StringField(filters=[strip], validators=[Length(max=255)])
    name = StringField(filters=[strip], validators=[Length(max=255)])
    unnamed = StringField(filters=[strip], validators=[Length(max=255)])  # the cells under no heading

    def typed(self, sent) -> dict[str, str]:
        """The cells the browser sent, by manifest column ("—" for the cells under no heading)."""
        return {("—" if field.name == "unnamed" else field.name): field.data or "" for field in self
                if field.name in sent and field.name != "csrf_token"}
