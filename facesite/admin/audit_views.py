"""The audit page: every vendor call, filtered, paged, exported, and charted by cost."""
import csv
import io

from flask import Response, render_template, request, stream_with_context

from facesite.admin import bp
from facesite.admin.audit_query import CSV_COLUMNS, AuditFilterForm, calls, calls_per_day
from facesite.extensions import db

PER_PAGE = 50


@bp.get("/audit")
def audit():
    form = AuditFilterForm(request.args)
    form.validate()
    page = db.paginate(calls(form), page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    days = calls_per_day(form)
    peak = max([d["pay"] + d["free"] for d in days] or [1])
    return render_template("admin/audit.html", form=form, page=page, filters=filters, days=days, peak=peak)


@bp.get("/audit.csv")
def audit_csv():
    form = AuditFilterForm(request.args)
    form.validate()

    def rows():
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for record in db.session.scalars(calls(form).execution_options(yield_per=500)):
            writer.writerow(["" if getattr(record, c) is None else getattr(record, c) for c in CSV_COLUMNS])
            yield out.getvalue()
            out.seek(0)
            out.truncate()
        yield out.getvalue()

    return Response(stream_with_context(rows()), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=facesite-audit.csv"})
