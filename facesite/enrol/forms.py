"""The enrol form. Field names are the vendor's API field names."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from facesite import catalogue
from facesite.advance import ADD_FACE_DETAILS
from facesite.countries import country_code
from facesite.pictures import PictureFields

# The longest value the portal accepts for each optional field (the form and batch manifests alike).
DETAIL_MAX_LENGTH = {"externalReferenceId": 128, "name": 128, "idNumber": 64, "idCardType": 64}


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


def optional_detail(label: str, api_name: str) -> StringField:
    return StringField(label, filters=[strip], validators=[Optional(), Length(max=DETAIL_MAX_LENGTH[api_name])])


class EnrolForm(FaceSetChoice, PictureFields, FlaskForm):
    # One per form shown: lets the server recognise a double click or a refresh.
    submissionId = HiddenField()
    externalReferenceId = optional_detail("External reference", "externalReferenceId")
    name = optional_detail("Name", "name")
    idNumber = optional_detail("ID number", "idNumber")
    idCardType = optional_detail("ID card type", "idCardType")
    country = StringField("Country", filters=[strip], validators=[Optional(), Length(max=64)])
    checkDuplicates = BooleanField("Search this face set for the person first (a charged search)")
    # Set when staff have seen the likely duplicates and chose to enrol anyway.
    duplicatesSeen = HiddenField()
    submit = SubmitField("Add face")

    def validate_country(self, field):
        if field.data:
            code = country_code(field.data)
            if code is None:
                raise ValidationError(unknown_country(field.data))
            field.data = code

    def details(self) -> dict:
        """The optional API fields as they will be sent."""
        return {name: getattr(self, name).data or None for name in ADD_FACE_DETAILS}


def unknown_country(value: str) -> str:
    return f"{value!r} is not an ISO 3166-1 country: pick one from the list or type its two-letter code."
