"""Find register entries by the exact ID number in front of the clerk.

The register keeps no full ID number, only its keyed hash (id_numbers.py), so the number typed is
hashed the same way and matched exactly. It is sent by POST (with the CSRF token), never in the URL: a
URL lands in access logs, proxies' logs and the browser's history, and a hash in it would still name the
same person everywhere it appears. The answer is a page of its own (no pages, no export link that would
carry the number on); nothing about the number is logged.
"""
from __future__ import annotations

from sqlalchemy import func

from facesite.config import settings
from facesite.extensions import db, limiter
from facesite.id_numbers import lookup_hash, mask_id_number, normalised
from facesite.models import Enrolment
from facesite.web.register.forms import IdNumberForm
from facesite.web.register.routes import RegisterFilterForm, bp, render_register
from facesite.web.security import user_or_address

# Entries one exact number can have (the same person in several face sets): all on one page.
MOST_FOUND = 200


def with_id_number(form: IdNumberForm):
    query = db.select(Enrolment).where(Enrolment.id_number_hash == lookup_hash(form.idNumber.data))
    if form.idCardType.data:
        query = query.where(func.upper(Enrolment.id_card_type) == form.idCardType.data.upper())
    if form.country.data:
        query = query.where(Enrolment.country == form.country.data)
    return query.order_by(Enrolment.id.desc())


def lookup_rate():
    return settings().rate_limit_id_lookup


@bp.post("/find")
@limiter.limit(lookup_rate, key_func=user_or_address)
def find():
    lookup = IdNumberForm()
    filters = RegisterFilterForm(formdata=None)
    if not lookup.validate_on_submit():
        return render_register(filters, lookup=lookup, status=422)
    page = db.paginate(with_id_number(lookup), page=1, per_page=MOST_FOUND, error_out=False)
    return render_register(filters, page, lookup=lookup, found=mask_id_number(normalised(lookup.idNumber.data)))
