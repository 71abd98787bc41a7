"""Form fields several staff tasks share: the face-set picker and the person's details.

The rules themselves live in the domain layer (``faces.person``) and the catalogue; these fields
only put them on a form.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from facesite import catalogue
from facesite.faces.person import MAX_LENGTH, check_detail


def strip(value):
    return value.strip() if isinstance(value, str) else value


class FaceSetChoice:
    """Mix into a FlaskForm: ``faceSetId``, accepted only from the catalogue (by id or label).

    Checking reads the catalogue only. In sandbox mode a view that wants a set made with the
    sandbox's own commands to join the catalogue calls ``catalogue.adopt_from_sandbox`` first.
    """

    faceSetId = StringField(_l("Face set"), filters=[strip], validators=[DataRequired(_l("Choose a face set.")),
                                                                     Length(max=120)])
    face_set = None

    def validate_faceSetId(self, field):
        self.face_set = catalogue.resolve(field.data)
        if self.face_set is None:
            raise ValidationError(catalogue.not_in_catalogue(field.data))
        field.data = self.face_set.id


class DetailRule:
    """Checks a field with the rule of the person detail it carries (``faces.person.check_detail``)."""

    def __init__(self, api_name: str):
        self.api_name = api_name
        self.field_flags = {"maxlength": MAX_LENGTH[api_name]}  # rendered, so browsers stop typing there

    def __call__(self, form, field):
        field.data, problem = check_detail(self.api_name, field.data)
        if problem:
            raise ValidationError(problem[:1].upper() + problem[1:])


def person_detail(label: str, api_name: str) -> StringField:
    return StringField(label, filters=[strip], validators=[DetailRule(api_name)])
