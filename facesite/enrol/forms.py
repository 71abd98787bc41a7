"""The enrol form. Field names are the vendor's API field names."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from facesite import image_rules
from facesite.advance import ADD_FACE_DETAILS
from facesite.countries import country_code
from facesite.drafts import valid_id


def strip(value):
    return value.strip() if isinstance(value, str) else value


class EnrolForm(FlaskForm):
    faceSetId = StringField("Face set", filters=[strip], validators=[DataRequired("Enter the face set id."),
                                                                     Length(max=64)])
    faceImage = FileField("Face picture")
    # A picture kept from an earlier attempt, so it need not be uploaded again.
    keptPicture = HiddenField()
    # One per form shown: lets the server recognise a double click or a refresh.
    submissionId = HiddenField()
    externalReferenceId = StringField("External reference", filters=[strip], validators=[Optional(), Length(max=128)])
    name = StringField("Name", filters=[strip], validators=[Optional(), Length(max=128)])
    idNumber = StringField("ID number", filters=[strip], validators=[Optional(), Length(max=64)])
    idCardType = StringField("ID card type", filters=[strip], validators=[Optional(), Length(max=64)])
    country = StringField("Country", filters=[strip], validators=[Optional(), Length(max=64)])
    submit = SubmitField("Add face")

    picture: bytes | None = None
    picture_facts: image_rules.ImageFacts | None = None

    def validate_faceImage(self, field):
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            if not valid_id(self.keptPicture.data):
                raise ValidationError("Attach a face picture.")
            return
        data = upload.read()
        try:
            self.picture_facts = image_rules.check_image(data)
        except image_rules.ImageRuleError as error:
            self.keptPicture.data = ""  # a new, refused picture replaces any kept one
            raise ValidationError(str(error)) from None
        self.picture = data

    def validate_country(self, field):
        if field.data:
            code = country_code(field.data)
            if code is None:
                raise ValidationError(f"{field.data!r} is not an ISO 3166-1 country: pick one from the list "
                                      "or type its two-letter code.")
            field.data = code

    def details(self) -> dict:
        """The optional API fields as they will be sent."""
        return {name: getattr(self, name).data or None for name in ADD_FACE_DETAILS}
