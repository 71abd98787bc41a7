"""The enrol form. Field names are the vendor's API field names."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from facesite import catalogue
from facesite.advance import ADD_FACE_DETAILS
from facesite.countries import country_code
from facesite.pictures import PictureFields


def strip(value):
    return value.strip() if isinstance(value, str) else value


class FaceSetChoice:
    """Mix into a FlaskForm: ``faceSetId``, accepted only from the catalogue (by id or label)."""

    faceSetId = StringField("Face set", filters=[strip], validators=[DataRequired("Choose a face set."),
                                                                     Length(max=120)])
    face_set = None

    def validate_faceSetId(self, field):
        self.face_set = catalogue.resolve(field.data)
        if self.face_set is None:
            raise ValidationError(catalogue.NOT_IN_CATALOGUE.format(id=field.data))
        field.data = self.face_set.id


class EnrolForm(FaceSetChoice, PictureFields, FlaskForm):
    # One per form shown: lets the server recognise a double click or a refresh.
    submissionId = HiddenField()
    externalReferenceId = StringField("External reference", filters=[strip], validators=[Optional(), Length(max=128)])
    name = StringField("Name", filters=[strip], validators=[Optional(), Length(max=128)])
    idNumber = StringField("ID number", filters=[strip], validators=[Optional(), Length(max=64)])
    idCardType = StringField("ID card type", filters=[strip], validators=[Optional(), Length(max=64)])
    country = StringField("Country", filters=[strip], validators=[Optional(), Length(max=64)])
    checkDuplicates = BooleanField("Search this face set for the person first (a charged search)")
    # Set when staff have seen the likely duplicates and chose to enrol anyway.
    duplicatesSeen = HiddenField()
    submit = SubmitField("Add face")

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
