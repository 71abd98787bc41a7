"""The register of enrolments: who the portal enrolled, filtered, paged and exported."""
from __future__ import annotations

import csv
import io
from flask import Response, abort, render_template, request
from wtforms import StringField
from wtforms.validators import Optional

from facesite.auth.access import role_required
from facesite.countries import country_name
from facesite.extensions import db
from facesite.filters import FilterForm
from facesite.models import Enrolment
from facesite.register import bp

PER_PAGE = 50
CSV_COLUMNS = ("id", "face_id", "face_set_id", "external_reference_id", "name", "country", "id_card_type",
               "id_number_masked", "enrolled_by", "enrolled_at", "transaction_id")


class RegisterFilterForm(FilterForm):
    face_set = StringField("Face set", validators=[Optional()])
    name = StringField("Name contains", validators=[Optional()])
    reference = StringField("External reference", validators=[Optional()])


def filtered(form: RegisterFilterForm):
    query = db.select(Enrolment).order_by(Enrolment.id.desc())
    if form.face_set.data:
        query = query.where(Enrolment.face_set_id == form.face_set.data.strip())
    if form.name.data:
        query = query.where(Enrolment.name.ilike(f"%{form.name.data.strip()}%"))
    if form.reference.data:
        query = query.where(Enrolment.external_reference_id == form.reference.data.strip())
    return query.where(*form.date_conditions(Enrolment.enrolled_at))


@bp.get("/")
def entries():
    form = RegisterFilterForm(request.args)
    form.validate()
    page = db.paginate(filtered(form), page=request.args.get("page", 1, type=int), per_page=PER_PAGE,
                       error_out=False)
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("register/list.html", form=form, page=page, filters=filters)


@bp.get("/export.csv")
@role_required("operator")
def export():
    form = RegisterFilterForm(request.args)
    form.validate()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in db.session.scalars(filtered(form)):
        writer.writerow(["" if getattr(entry, c) is None else getattr(entry, c) for c in CSV_COLUMNS])
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=facesite-register.csv"})


@bp.get("/<int:entry_id>")
def entry(entry_id):
    found = db.session.get(Enrolment, entry_id) or abort(404)
    return render_template("register/entry.html", entry=found, country=country_name(found.country))


@bp.get("/<int:entry_id>/thumbnail.jpg")
def thumbnail(entry_id):
    found = db.session.get(Enrolment, entry_id)
    if found is None or found.thumbnail is None:
        abort(404)
    response = Response(found.thumbnail, mimetype="image/jpeg")
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response
