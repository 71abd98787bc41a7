"""GET filter forms for list pages (audit log, register): no CSRF, dates as a range."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    since = DateField("From", validators=[Optional()])
    until = DateField("To", validators=[Optional()])

    def date_conditions(self, column) -> list:
        """``column`` within since..until, both days included."""
        where = []
        if self.since.data:
            where.append(column >= datetime.combine(self.since.data, datetime.min.time()))
        if self.until.data:
            where.append(column < datetime.combine(self.until.data, datetime.min.time()) + timedelta(days=1))
        return where
