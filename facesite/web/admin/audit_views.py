"""The audit page: every vendor call, filtered, paged, exported, and charted by cost."""
from flask import render_template, request

from facesite.extensions import db
from facesite.web.admin.audit_query import (CSV_COLUMNS, AuditFilterForm, SecurityFilterForm, calls, calls_per_day,
                                            security_log)
from facesite.web.admin.blueprint import bp
from facesite.web.filters import requested_page
from facesite.web.spreadsheets import csv_download, record_rows

PER_PAGE = 50


@bp.get("/audit")
def audit():
    form = AuditFilterForm(request.args)
    form.validate()
    page = db.paginate(calls(form), page=requested_page(), per_page=PER_PAGE, error_out=False)
    filters = form.link_arguments()
    days = calls_per_day(form)
    peak = max([d["pay"] + d["free"] for d in days] or [1])
    return render_template("admin/audit.html", form=form, page=page, filters=filters, days=days, peak=peak)


@bp.get("/audit.csv")
def audit_csv():
    form = AuditFilterForm(request.args)
    form.validate()
    return csv_download("facesite-audit.csv", CSV_COLUMNS, record_rows(calls(form), CSV_COLUMNS), export="audit")


@bp.get("/security")
def security():
    """Sign-ins, account and setting changes, exports: who did what, to whom, from where."""
    form = SecurityFilterForm(request.args)
    form.validate()
    page = db.paginate(security_log(form), page=requested_page(), per_page=PER_PAGE, error_out=False)
    return render_template("admin/audit_security.html", form=form, page=page, filters=form.link_arguments())
