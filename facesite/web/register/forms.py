"""The form that finds an ID number in the register (sent by POST: see by_id_number.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, ValidationError

from facesite.id_numbers import normalised
from facesite.web.form_fields import DetailRule, person_detail, strip


class IdNumberForm(FlaskForm):
    idNumber = StringField(_l("ID number"), filters=[strip],
                           validators=[DataRequired(_l("Type the ID number to find.")), DetailRule("idNumber")])
    idCardType = person_detail(_l("ID type"), "idCardType")
    country = person_detail(_l("Country"), "country")
    submit = SubmitField(_l("Find this ID number"))

    def validate_idNumber(self, field):
        if not normalised(field.data):  # only spaces and dashes: no number to find
            raise ValidationError(_l("Type the ID number to find."))
