"""GET filter forms for list pages (audit log, register): no CSRF, dates as a range."""
from __future__ import annotations

from datetime import datetime

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional

# Pages past the last one are simply empty; past this one the row offset would overflow the database's
# integers (a server error), so larger page numbers are read as this one.
MAX_PAGE = 1_000_000


def requested_page() -> int:
    """The ``page`` query argument as a page number from 1 to MAX_PAGE (1 when it is not a number)."""
    return min(max(request.args.get("page", 1, type=int), 1), MAX_PAGE)


class FilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])

    def link_arguments(self) -> dict:
        """The filters as typed, for links that keep them (pager, CSV export). Only this form's own
        fields: any other query argument would reach url_for (``endpoint``, ``_external``, ``_anchor``)."""
        return {field.name: field.raw_data[0] for field in self if field.raw_data and field.raw_data[0]}

    def date_conditions(self, column) -> list:
        """``column`` within since..until, both days included."""
        where = []
        if self.since.data:
            where.append(column >= datetime.combine(self.since.data, datetime.min.time()))
        if self.until.data:  # through the end of that day (9999-12-31 has no next day: up to its last moment)
            end = datetime.combine(self.until.data, datetime.max.time())
            where.append(column <= end)
        return where
