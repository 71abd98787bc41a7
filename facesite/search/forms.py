"""The search form: a face set, a picture, and how many matches above which score."""
from flask_wtf import FlaskForm
from wtforms import DecimalField, HiddenField, IntegerField, SubmitField
from wtforms.validators import NumberRange, Optional

from facesite.enrol.forms import FaceSetChoice
from facesite.pictures import PictureFields

DEFAULT_TOP_K, DEFAULT_THRESHOLD = 20, 80


class SearchForm(FaceSetChoice, PictureFields, FlaskForm):
    submissionId = HiddenField()
    topK = IntegerField("Matches to show (topK)", validators=[Optional(), NumberRange(1, 100)])
    threshold = DecimalField("Lowest score (threshold)", places=None,
                             validators=[Optional(), NumberRange(0, 100)])
    submit = SubmitField("Search")

    def apply_face_set_defaults(self):
        """Empty topK / threshold take the face set's defaults, else the vendor's (20, 80)."""
        if self.topK.data is None:
            self.topK.data = (self.face_set and self.face_set.default_top_k) or DEFAULT_TOP_K
        if self.threshold.data is None:
            default = self.face_set.default_threshold if self.face_set else None
            self.threshold.data = DEFAULT_THRESHOLD if default is None else default
