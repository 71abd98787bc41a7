"""The register: the portal's own record of every face it enrolled (the vendor offers no way to list them)."""
from __future__ import annotations

import io
import logging

from flask import current_app
from PIL import Image, ImageOps
from sqlalchemy.exc import SQLAlchemyError

from facesite.advance import FaceRect
from facesite.extensions import db
from facesite.faces.id_numbers import lookup_hash
from facesite.faces.person import PersonDetails
from facesite import image_rules
from facesite.image_rules import DECODED_LONG_SIDE
from facesite.models import Enrolment

THUMBNAIL_SIDE = 160
ORIENTATION_TAG = 0x0112
# A face thumbnail's square is this many times the face's own size: the whole head, a little shoulder.
FACE_CROP_MARGIN = 1.8
log = logging.getLogger(__name__)


def thumbnail(picture: bytes, decoded: Image.Image | None = None, side: int = THUMBNAIL_SIDE,
              face: FaceRect | None = None) -> bytes:
    """A small JPEG of the picture (longest side at most ``side``), upright and without any metadata
    (never the original). With the ``face`` the vendor found, a square around that face (a viewer
    checks a match by the face, not by a chest and crossed arms); without, the whole picture.
    ``decoded``: the pixels the picture check already decoded, used when they are big enough."""
    upright = upright_size(picture) if face else None
    wanted = side if upright is None else max(side, round(side * max(upright) / (max(face.width, face.height) * FACE_CROP_MARGIN)))
    # The check's pixels when there are any (image_rules keeps DECODED_LONG_SIDE px): a second, larger
    # decode for a sharper face cost 12 ms per enrolment, a third of its CPU (issue 14).
    if decoded is not None and max(decoded.size) >= min(wanted, DECODED_LONG_SIDE) * 3 // 4:
        image = decoded
    else:
        image = Image.open(io.BytesIO(picture))
        image.draft("RGB", (wanted, wanted))  # JPEG: decode at the smallest scale that fits
    image = ImageOps.exif_transpose(image).convert("RGB")
    if upright is not None:
        image = image.crop(square_around(face, image.width / upright[0], image.size))
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def square_around(face: FaceRect, scale: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The crop box of a square centred on the face (given in full-size pixels; the image is ``scale``
    times that), as large as FACE_CROP_MARGIN asks but inside the image."""
    width, height = size
    half = min(max(face.width, face.height) * FACE_CROP_MARGIN * scale, width, height) / 2
    centre_x = min(max((face.left + face.width / 2) * scale, half), width - half)
    centre_y = min(max((face.top + face.height / 2) * scale, half), height - half)
    return (round(centre_x - half), round(centre_y - half), round(centre_x + half), round(centre_y + half))


def upright_size(picture: bytes) -> tuple[int, int] | None:
    """The picture's (width, height) as shown, from its header alone (an EXIF turn swaps them)."""
    try:
        image = Image.open(io.BytesIO(picture))
        turned = image.getexif().get(ORIENTATION_TAG) in (5, 6, 7, 8)
    except (OSError, ValueError, SyntaxError):
        return None
    return (image.height, image.width) if turned else image.size


def record_enrolment(face_set_id: str, face_id: str, person: PersonDetails, transaction_id: str | None,
                     picture: bytes, decoded: Image.Image | None = None, *, enrolled_by: str,
                     face: FaceRect | None = None) -> int | None:
    """Add the face to the register; the entry's id. The vendor has already added it, so a failure here
    is logged, never raised (None): the staff member must still see the face id they got. The ID number is
    kept masked, and as its look-up hash (faces/id_numbers.py)."""
    number_hash, person = lookup_hash(person.id_number), person.masked()
    entry = Enrolment(
        face_id=str(face_id), face_set_id=face_set_id, external_reference_id=person.external_reference_id,
        name=person.name, country=person.country, id_card_type=person.id_card_type,
        id_number_masked=person.id_number, id_number_hash=number_hash,
        enrolled_by=enrolled_by, transaction_id=transaction_id,
        thumbnail=thumbnail(picture, decoded, face=face) if current_app.config["KEEP_THUMBNAILS"] else None)
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


def searchable(thumbnail_bytes: bytes) -> bytes:
    """A register thumbnail enlarged until its shortest side meets the vendor's minimum, to search with
    (the register keeps no larger picture of a face: the page says the scores are less sure)."""
    image = Image.open(io.BytesIO(thumbnail_bytes)).convert("RGB")
    scale = max(1.0, image_rules.MIN_SIDE / min(image.size))
    if scale > 1:
        image = image.resize((max(image_rules.MIN_SIDE, round(image.width * scale)),
                              max(image_rules.MIN_SIDE, round(image.height * scale))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()
