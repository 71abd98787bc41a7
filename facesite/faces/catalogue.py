"""The face-set catalogue: which of the vendor's face sets staff may use, under which label.

The vendor offers no way to list face sets, so the portal keeps this list. In
sandbox mode it follows the sandbox: a catalogue entry also creates the set
there, and a set made with the sandbox's own commands joins the catalogue the
first time an administrator names it.
"""
from __future__ import annotations

import logging

import requests
from flask import g, has_request_context
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError

from facesite.config import settings
from facesite.extensions import db
from facesite.models import FaceSet, User
from facesite.sandbox import DEMO_FACE_SET_ID, DEMO_FACE_SET_NAME, operator_api

log = logging.getLogger(__name__)


def not_in_catalogue(face_set_id: str) -> str:
    """The vendor's own words for an unknown face set (kept exact), then the portal's in the reader's."""
    return f"FaceSet not found, id: {face_set_id}. " + _(
        "It is not in the portal's catalogue of face sets: pick one from the list, or ask an administrator to add it.")


def all_face_sets() -> list[FaceSet]:
    """Every entry, by label; read once per request (a form page asks for its options and its default)."""
    if "face_sets" not in g:
        g.face_sets = db.session.scalars(db.select(FaceSet).order_by(FaceSet.label)).all()
    return g.face_sets


def default_face_set_id(asked: str | None) -> str:
    """The face set a new form starts with: the one asked for (in sandbox mode a set made with the sandbox's
    commands joins the catalogue here when an administrator asks, so the drop-down can show it), else the one this person chose last
    (while it is still in the catalogue), else the only one there is."""
    if asked:
        adopt_from_sandbox(asked)
        return asked
    remembered = getattr(current_user, "last_face_set_id", None)
    if remembered and any(s.id == remembered for s in all_face_sets()):
        return remembered
    sets = all_face_sets()
    return sets[0].id if len(sets) == 1 else ""


def remember(entry: FaceSet) -> None:
    """Keeps ``entry`` as the signed-in person's last choice (users.last_face_set_id), for their next form."""
    user = current_user._get_current_object() if current_user else None
    if isinstance(user, User) and user.last_face_set_id != entry.id:
        user.last_face_set_id = entry.id
        db.session.commit()


def as_listed(entry: FaceSet) -> str:
    """How a picker shows an entry: its label, with the id after it when they differ."""
    return entry.label if entry.label == entry.id else f"{entry.label} ({entry.id})"


def listed_name(face_set_id: str | None) -> str:
    """A face set as pages name it (its label, its id after it), from its id; an id the catalogue no longer
    holds is shown as it is."""
    entry = next((s for s in all_face_sets() if s.id == face_set_id), None)
    return as_listed(entry) if entry else (face_set_id or "—")


def type_ahead_options() -> Markup:
    """<option>s of a type-ahead box's <datalist>: what to type for each entry, its id beside it."""
    return Markup("").join(Markup('<option value="{}">{}</option>').format(typed_as(s), s.id) for s in all_face_sets())


def typed_as(entry: FaceSet) -> str:
    """What staff type for an entry in the type-ahead: its label, unless it would name another entry too
    (another's label or id: ``resolve`` tries ids first)."""
    label = entry.label.lower()
    clash = any(s.id != entry.id and (s.label.lower() == label or s.id == entry.label) for s in all_face_sets())
    return entry.id if clash else entry.label


def resolve(value: str | None) -> FaceSet | None:
    """The catalogue entry named by its id or its label; None when staff may not use it.
    Reads the database only (see ``adopt_from_sandbox``)."""
    value = (value or "").strip()
    if not value:
        return None
    return db.session.get(FaceSet, value) or db.session.scalar(
        db.select(FaceSet).where(func.lower(FaceSet.label) == value.lower()))


def _by_an_administrator() -> bool:
    user = current_user._get_current_object() if has_request_context() else None
    return isinstance(user, User) and user.can("admin")


def adopt_from_sandbox(value: str | None) -> FaceSet | None:
    """Sandbox mode only: a face set made with the sandbox's own commands joins the catalogue the
    first time an administrator names it (the catalogue is theirs: anyone else gets the usual "not in
    the catalogue"). Asks the sandbox over HTTP, so callers do it before checking a form, never inside
    the check. Returns the new entry, or None (not sandbox mode, not an administrator, known already,
    or the sandbox has no such set)."""
    face_set_id = (value or "").strip()
    if not face_set_id or not settings().sandbox_mode or resolve(face_set_id) is not None:
        return None
    if not _by_an_administrator():
        return None
    base_url = settings().advance_base_url
    try:
        known = {s["id"]: s for s in operator_api.list_face_sets(base_url)} if base_url else {}
    except (requests.RequestException, ValueError, KeyError):
        return None
    if face_set_id not in known:
        return None
    try:
        return add(face_set_id, known[face_set_id].get("name") or face_set_id, created_by="sandbox", in_sandbox=False)
    except IntegrityError:  # another request adopted it at the same moment
        db.session.rollback()
        return db.session.get(FaceSet, face_set_id)


def add(face_set_id: str, label: str, description: str = "", default_top_k: int | None = None,
        default_threshold: float | None = None, created_by: str | None = None, in_sandbox: bool = True) -> FaceSet:
    if in_sandbox and settings().sandbox_mode and settings().advance_base_url:
        operator_api.create_face_set(settings().advance_base_url, face_set_id, label)
    entry = FaceSet(id=face_set_id, label=label, description=description, default_top_k=default_top_k,
                    default_threshold=default_threshold, created_by=created_by)
    db.session.add(entry)
    db.session.commit()
    g.pop("face_sets", None)
    return entry


def seed_sandbox_catalogue() -> None:
    """A new sandbox-mode portal starts with the sandbox's demo face set in its catalogue."""
    if settings().sandbox_mode and db.session.scalar(db.select(FaceSet.id).limit(1)) is None:
        db.session.add(FaceSet(id=DEMO_FACE_SET_ID, label=DEMO_FACE_SET_NAME, created_by="sandbox",
                               description="Made by the sandbox for rehearsals and demos."))
        db.session.commit()
