"""The register of enrolments: who the portal enrolled, filtered, paged and exported."""
from __future__ import annotations

import base64
import hashlib
import hmac

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Optional

from facesite.config import settings
from facesite.countries import country_name
from facesite.drafts import drafts
from facesite.extensions import db, limiter
from facesite.faces import catalogue
from facesite.models import Enrolment
from facesite.pictures.thumbnails import searchable
from facesite.web.filters import FilterForm, requested_page
from facesite.web.form_fields import face_set_field
from facesite.web.register.forms import IdNumberForm
from facesite.web.security import user_or_address
from facesite.web.spreadsheets import csv_download, record_rows

bp = Blueprint("register", __name__, url_prefix="/register")

PER_PAGE = 50
CSV_COLUMNS = ("id", "face_id", "face_set_id", "external_reference_id", "name", "country", "id_card_type",
               "id_number_masked", "enrolled_by", "enrolled_at", "transaction_id")


class RegisterFilterForm(FilterForm):
    face_set = face_set_field(Optional())  # by label or id, as on the forms
    name = StringField(_l("Name contains"), validators=[Optional()])
    reference = StringField(_l("Reference"), validators=[Optional()])


def filtered(form: RegisterFilterForm):
    query = db.select(Enrolment).order_by(Enrolment.id.desc())
    if form.face_set.data:  # a face set since taken out of the catalogue is still found by its id
        entry = catalogue.resolve(form.face_set.data)
        query = query.where(Enrolment.face_set_id == (entry.id if entry else form.face_set.data.strip()))
    if form.name.data:
        query = query.where(Enrolment.name.ilike(f"%{form.name.data.strip()}%"))
    if form.reference.data:
        query = query.where(Enrolment.external_reference_id == form.reference.data.strip())
    return query.where(*form.date_conditions(Enrolment.enrolled_at))


def render_register(form: RegisterFilterForm, page=None, *, lookup=None, found: str | None = None, status: int = 200):
    """The register page: the filters, the form finding an ID number (``lookup``), and a page of entries:
    with ``found`` (the number looked up, masked), its entries; else a page of the filters' entries."""
    page = page or db.paginate(filtered(form), page=requested_page(), per_page=PER_PAGE, error_out=False)
    # Entries whose thumbnail is kept (the purge drops old ones): the others get no picture rather than a
    # broken one. Asked once for the page, without reading the pictures themselves.
    with_thumbnail = set(db.session.scalars(db.select(Enrolment.id).where(
        Enrolment.id.in_([e.id for e in page.items]), Enrolment.thumbnail.is_not(None))))
    return render_template("register/list.html", form=form, page=page, filters=form.link_arguments(),
                           with_thumbnail=with_thumbnail, lookup=lookup or IdNumberForm(formdata=None),
                           found=found), status


@bp.get("/")
def entries():
    form = RegisterFilterForm(request.args)
    form.validate()
    return render_register(form)


@bp.get("/export.csv")
def export():
    form = RegisterFilterForm(request.args)
    form.validate()
    return csv_download("facesite-register.csv", CSV_COLUMNS, record_rows(filtered(form), CSV_COLUMNS),
                        export="register")


@bp.get("/<int:entry_id>")
def entry(entry_id):
    found = db.session.get(Enrolment, entry_id) or abort(404)
    return render_template("register/entry.html", entry=found, country=country_name(found.country))


def search_rate():
    return settings().rate_limit_search


@bp.post("/<int:entry_id>/search")
@limiter.limit(search_rate, key_func=user_or_address)
def search_with_face(entry_id):
    """Search with the face a register entry keeps: its thumbnail, enlarged, kept as the searcher's own
    picture, then the search form with it attached (nothing to upload). Kept once per person and entry: the
    same button pressed again reuses that copy, so nobody fills the disk with it."""
    found = db.session.get(Enrolment, entry_id) or abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    if found.thumbnail is None or not settings().keep_thumbnails:
        flash(_("No picture of this face is kept: search with a photo of the person."), "error")
        return redirect(url_for(".entry", entry_id=found.id), 303)
    picture_id = drafts().keep_picture_once(entry_picture_id(found, current_user.username), searchable(found.thumbnail),
                                            ".jpg", current_user.username)
    flash(_("The register's small picture of %(who)s is attached, enlarged: a photo of the person gives surer "
            "scores.", who=found.name or found.external_reference_id or found.face_id), "info")
    return redirect(url_for("search.search", faceSetId=found.face_set_id, picture=picture_id), 303)


def entry_picture_id(entry: Enrolment, owner: str) -> str:
    """The kept picture's id for this person and this entry's thumbnail: derived, not random, and keyed, so
    nobody can name another person's copy."""
    digest = hmac.new(settings().secret_key.encode(), f"register-search\0{owner}\0{entry.id}\0".encode()
                      + hashlib.sha256(entry.thumbnail).digest(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def thumbnail_rate():
    return settings().rate_limit_thumbnails


@bp.get("/<int:entry_id>/thumbnail.jpg")
@limiter.limit(thumbnail_rate, key_func=user_or_address)
def thumbnail(entry_id):
    found = db.session.get(Enrolment, entry_id)
    if found is None or found.thumbnail is None:
        abort(404)
    return Response(found.thumbnail, mimetype="image/jpeg")  # never cached: see security.no_store
