"""The search form: a face set, a picture, and how many matches above which score."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField, SubmitField
from wtforms.validators import NumberRange, Optional

from facesite.web.form_fields import FaceSetChoice
from facesite.web.picture_field import PictureFields


class SearchForm(FaceSetChoice, PictureFields, FlaskForm):
    submissionId = HiddenField()
    # Left empty: the face set's defaults, else the vendor's (faces.searching.search_settings).
    topK = IntegerField(_l("Most matches to show"), validators=[Optional(), NumberRange(1, 100)])
    threshold = DecimalField(_l("Minimum score"), places=None,
                             validators=[Optional(), NumberRange(0, 100)])
    submit = SubmitField(_l("Search"))
