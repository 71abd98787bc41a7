"""Enrolling a face: the one way the portal sends Add Face, for the enrol form and every batch row.

``enrol`` makes the call on behalf of a named staff member (the audit trail records them), writes
the register entry with the ID number masked, and returns either ``Enrolled`` or ``Refused``.
"""
from __future__ import annotations

from facesite.advance import AdvanceError
from facesite.audit import acting_for
from facesite.extensions import db
from facesite.faces.person import PersonDetails
from facesite.faces.problems import explain
from facesite.faces.register import record_enrolment
from facesite.faces.results import Enrolled, Picture, Refused
from facesite.upstream import vendor


def release_connection() -> None:
    """Hand this thread's pooled database connection back before a vendor call: the call may take
    seconds, and a connection held idle through it starves the pool under load. Objects already
    loaded stay readable."""
    db.session.close()


def enrol(face_set_id: str, person: PersonDetails, picture: Picture, *, by: str,
          face_set_label: str | None = None) -> Enrolled | Refused:
    """Add the face to the face set with these details (sent in full, kept masked)."""
    release_connection()
    try:
        with acting_for(by):
            added = vendor().add_face(face_set_id, picture.data, filename=picture.filename,
                                      mime_type=picture.facts.mime_type, details=person.api_fields())
    except AdvanceError as error:
        return Refused(explain(error, reference=person.external_reference_id), error)
    register_id = record_enrolment(face_set_id, added.face_id, person, added.transaction_id, picture.data,
                             picture.facts.decoded, enrolled_by=by, face=added.face)
    facts = picture.facts
    return Enrolled(face_set_id=face_set_id, face_set_label=face_set_label or face_set_id, face_id=added.face_id,
                    transaction_id=added.transaction_id, pricing_strategy=added.pricing_strategy, note=added.note,
                    register_id=register_id, person=person.masked(), picture_id=picture.kept_id,
                    preparation=picture.preparation,
                    picture={"format": facts.format, "width": facts.width, "height": facts.height,
                             "bytes": facts.size_bytes})
