"""The register: the portal's own record of every face it enrolled (the vendor offers no way to list them)."""
from __future__ import annotations

import logging

from PIL import Image
from sqlalchemy.exc import SQLAlchemyError

from facesite.advance import FaceRect
from facesite.config import settings
from facesite.extensions import db
from facesite.faces.person import PersonDetails
from facesite.id_numbers import lookup_hash
from facesite.models import Enrolment
from facesite.pictures.thumbnails import thumbnail

log = logging.getLogger(__name__)


def record_enrolment(face_set_id: str, face_id: str, person: PersonDetails, transaction_id: str | None,
                     picture: bytes, decoded: Image.Image | None = None, *, enrolled_by: str,
                     face: FaceRect | None = None) -> int | None:
    """Add the face to the register; the entry's id. The vendor has already added it, so a failure here
    is logged, never raised (None): the staff member must still see the face id they got. The ID number is
    kept masked, and as its look-up hash (id_numbers.py)."""
    number_hash, person = lookup_hash(person.id_number), person.masked()
    entry = Enrolment(
        face_id=str(face_id), face_set_id=face_set_id, external_reference_id=person.external_reference_id,
        name=person.name, country=person.country, id_card_type=person.id_card_type,
        id_number_masked=person.id_number, id_number_hash=number_hash,
        enrolled_by=enrolled_by, transaction_id=transaction_id,
        thumbnail=thumbnail(picture, decoded, face=face) if settings().keep_thumbnails else None)
    try:
        db.session.add(entry)
        db.session.flush()
        entry_id = entry.id  # read before the commit expires it (else a reload, thumbnail and all)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("face %s of set %s was enrolled but could not be added to the register", face_id, face_set_id)
        return None
    return entry_id


def enrolments_for(face_set_id: str, face_ids: list[str]) -> dict[str, Enrolment]:
    """Register entries of these faces, by face id (faces enrolled elsewhere are simply absent)."""
    if not face_ids:
        return {}
    rows = db.session.scalars(db.select(Enrolment).where(Enrolment.face_set_id == face_set_id,
                                                         Enrolment.face_id.in_([str(i) for i in face_ids])))
    return {row.face_id: row for row in rows}
