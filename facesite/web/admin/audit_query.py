"""Filtering the audit trail, shared by the audit page, its CSV export and its chart; and the security log."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from facesite.extensions import db
from facesite.i18n_names import EVENT_NAMES
from facesite.models import SecurityEvent, VendorCall
from facesite.security_events import EVENTS
from facesite.web.filters import FilterForm

CSV_COLUMNS = ("id", "started_at", "finished_at", "username", "call", "face_set_id", "external_reference_id",
               "id_number_masked", "outcome_code", "outcome_message", "transaction_id", "pricing_strategy",
               "http_status", "latency_ms", "request_id")


class AuditFilterForm(FilterForm):
    user = StringField(_l("User"), validators=[Optional()])
    face_set = StringField(_l("Face set"), validators=[Optional()])
    outcome = SelectField(_l("Outcome"), choices=[SelectChoice("", _l("any")), SelectChoice("success", _l("success")), SelectChoice("failure", _l("failure")),
                                               SelectChoice("unfinished", _l("no answer recorded"))],
                          validators=[Optional()])
    # The id an error page showed (request_ids.py): finds the calls that request made.
    request_id = StringField(_l("Request id"), validators=[Optional(), Length(max=64)])


def conditions(form: AuditFilterForm) -> list:
    where = []
    if form.user.data:
        where.append(VendorCall.username == form.user.data.strip().lower())
    where += form.date_conditions(VendorCall.started_at)
    if form.face_set.data:
        where.append(VendorCall.face_set_id == form.face_set.data.strip())
    if form.request_id.data:
        where.append(VendorCall.request_id == form.request_id.data.strip())
    if form.outcome.data == "success":
        where.append(VendorCall.outcome_code == "SUCCESS")
    elif form.outcome.data == "failure":
        where.append(VendorCall.outcome_code != "SUCCESS")
    elif form.outcome.data == "unfinished":
        where.append(VendorCall.finished_at.is_(None))
    return where


def calls(form: AuditFilterForm):
    return db.select(VendorCall).where(*conditions(form)).order_by(VendorCall.id.desc())


def calls_per_day(form: AuditFilterForm, days: int = 31) -> list[dict]:
    """The last ``days`` days with calls: how many were charged (PAY) and how many free."""
    day = func.date(VendorCall.started_at)
    charged = func.sum(case((VendorCall.pricing_strategy == "PAY", 1), else_=0))
    rows = db.session.execute(db.select(day, charged, func.count()).where(*conditions(form))
                              .group_by(day).order_by(day.desc()).limit(days)).all()
    return [{"day": str(d), "pay": int(p or 0), "free": int(n) - int(p or 0)} for d, p, n in reversed(rows)]


class SecurityFilterForm(FilterForm):
    event = SelectField(_l("Event"), validators=[Optional()],
                        choices=[SelectChoice("", _l("any"))] + [SelectChoice(e, EVENT_NAMES.get(e, e)) for e in EVENTS])
    actor = StringField(_l("Done by"), validators=[Optional(), Length(max=254)])
    subject = StringField(_l("About (user, face set, setting)"), validators=[Optional(), Length(max=254)])


def security_log(form: SecurityFilterForm):
    """Security events matching the filters, newest first. A filter that did not validate is left out,
    and the page shows why."""
    where = form.date_conditions(SecurityEvent.at)
    if form.event.data and not form.event.errors:
        where.append(SecurityEvent.event == form.event.data)
    for field, column in ((form.actor, SecurityEvent.actor), (form.subject, SecurityEvent.subject)):
        if field.data and not field.errors:
            where.append(func.lower(column) == field.data.strip().lower())
    return db.select(SecurityEvent).where(*where).order_by(SecurityEvent.id.desc())


def events_about(username: str, limit: int) -> list[SecurityEvent]:
    """The latest security events done by or about one user (their page shows these)."""
    return db.session.scalars(db.select(SecurityEvent)
                              .where((SecurityEvent.subject == username) | (SecurityEvent.actor == username))
                              .order_by(SecurityEvent.id.desc()).limit(limit)).all()
