"""The enrol form. Field names are the vendor's API field names."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SubmitField

from facesite.faces import PersonDetails
from facesite.web.form_fields import FaceSetChoice, person_detail
from facesite.web.picture_field import PictureFields


class EnrolForm(FaceSetChoice, PictureFields, FlaskForm):
    # One per form shown: lets the server recognise a double click or a refresh.
    submissionId = HiddenField()
    externalReferenceId = person_detail(_l("Reference"), "externalReferenceId")
    name = person_detail(_l("Name"), "name")
    idNumber = person_detail(_l("ID number"), "idNumber")
    idCardType = person_detail(_l("ID type"), "idCardType")
    country = person_detail(_l("Country"), "country")
    checkDuplicates = BooleanField(_l("Search this face set for the person first"))
    # Set when staff have seen the likely duplicates and chose to enrol anyway.
    duplicatesSeen = HiddenField()
    # Set when staff were told the picture holds several faces and chose to enrol the largest.
    facesSeen = HiddenField()
    # "Choose another picture" after that question: the picture goes, every other value stays.
    otherPicture = SubmitField(_l("Choose another picture"))
    submit = SubmitField(_l("Enrol"))

    def person(self) -> PersonDetails:
        """The details as checked (the field checks are ``faces.person``'s rules)."""
        return PersonDetails(self.externalReferenceId.data, self.name.data, self.idNumber.data,
                             self.idCardType.data, self.country.data)
