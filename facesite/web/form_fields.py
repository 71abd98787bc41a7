"""Form fields several staff tasks share: the face-set picker and the person's details.

The rules themselves live in the domain layer (``faces.person``) and the catalogue; these fields
only put them on a form.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError
from wtforms.widgets import html_params

from facesite.config import settings
from facesite.faces import MAX_LENGTH, catalogue, check_detail


def strip(value):
    return value.strip() if isinstance(value, str) else value


class FaceSetPicker:
    """Draws a face-set field. A short catalogue (up to FACE_SET_LIST_MAX entries) is a drop-down of labels,
    each with its id after it; a longer one is a type-ahead box (``<input list>``) suggesting the labels.
    Either sends what ``catalogue.resolve`` reads (an id or a label). ``empty``: the drop-down's first,
    empty choice (what leaving the field empty means on this form)."""

    @staticmethod
    def lists() -> bool:
        return len(catalogue.all_face_sets()) <= settings().face_set_list_max

    def __call__(self, field, empty="", **attrs):
        attrs.setdefault("id", field.id)
        for flag in ("required", "maxlength"):
            if getattr(field.flags, flag, None) and flag not in attrs:
                attrs[flag] = getattr(field.flags, flag)
        value = (field.data or "").strip() if isinstance(field.data, str) else ""
        chosen = catalogue.resolve(value)
        if self.lists():
            return self._drop_down(field, chosen.id if chosen else value, empty, attrs)
        return self._type_ahead(field, catalogue.typed_as(chosen) if chosen else value, attrs)

    @staticmethod
    def _type_ahead(field, shown: str, attrs: dict) -> Markup:
        suggestions = f"{attrs['id']}-list"
        return Markup('<input {}><datalist id="{}">{}</datalist>').format(
            html_params(name=field.name, type="text", value=shown, list=suggestions, autocomplete="off", **attrs),
            suggestions, catalogue.type_ahead_options())

    @staticmethod
    def _drop_down(field, current: str, empty: str, attrs: dict) -> Markup:
        attrs.pop("maxlength", None)
        entries = [(s.id, catalogue.as_listed(s)) for s in catalogue.all_face_sets()]
        if current and all(current != face_set_id for face_set_id, _ in entries):
            entries.insert(0, (current, current))  # sent but not in the catalogue: kept, with its error
        option = Markup('<option value="{}"{}>{}</option>')
        return Markup("<select {}>{}</select>").format(html_params(name=field.name, **attrs), Markup("").join(
            [option.format("", "", empty)]
            + [option.format(i, Markup(" selected") if i == current else "", text) for i, text in entries]))


def face_set_field(*validators) -> StringField:
    return StringField(_l("Face set"), filters=[strip], validators=[*validators, Length(max=120)],
                       widget=FaceSetPicker())


class FaceSetChoice:
    """Mix into a FlaskForm: ``faceSetId``, accepted only from the catalogue (by id or label), and kept as
    the person's choice for their next form.

    Checking reads the catalogue only. In sandbox mode a view that wants a set made with the
    sandbox's own commands to join the catalogue calls ``catalogue.adopt_from_sandbox`` first.
    """

    faceSetId = face_set_field(DataRequired(_l("Choose a face set.")))
    face_set = None

    def validate_faceSetId(self, field):
        self.face_set = catalogue.resolve(field.data)
        if self.face_set is None:
            raise ValidationError(catalogue.not_in_catalogue(field.data))
        field.data = self.face_set.id
        catalogue.remember(self.face_set)


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
