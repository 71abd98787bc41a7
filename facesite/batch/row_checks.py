"""Before a batch row is enrolled: is its picture of one person, and (when the job asks) is that person
already in the face set? The questions the enrol page stops to ask (faces/questions.py, one order); in a batch
nobody is there to answer, so such a row is held for a person to check ("check", with the reason) and
never enrolled silently. A person who has checked sends it again from the job's page; a row sent again
is not held a second time (the runner asks only before a row's first attempt)."""
from __future__ import annotations

from flask_babel import gettext as _, ngettext

from facesite.batch import row_outcomes as row_outcome
from facesite.extensions import db
from facesite.faces import (LikelyDuplicates, Match, PersonDetails, Picture, Refused, SeveralFaces,
                            ask_before_enrolling, enrolments_for)
from facesite.i18n_names import number_text
from facesite.models import FaceSet

SEVERAL_FACES = "SEVERAL_FACES"
POSSIBLE_DUPLICATE = "POSSIBLE_DUPLICATE"
HELD_CODES = (SEVERAL_FACES, POSSIBLE_DUPLICATE)


def before_enrolling(face_set_id: str, picture: Picture, person: PersonDetails, *, by: str, check_duplicates: bool,
                     gate, attempts: int) -> dict | None:
    """The row's values when it is not to be enrolled now (held, or the duplicate search failed); None to go on."""
    face_set = db.session.get(FaceSet, face_set_id) or FaceSet(id=face_set_id, label=face_set_id)
    question = ask_before_enrolling(face_set, picture, by=by, check_duplicates=check_duplicates)
    if isinstance(question, Refused):
        values = row_outcome.after_error(question.error, person, gate, attempts)
        if values["state"] == row_outcome.RowState.UNKNOWN:  # a search adds nothing: nothing to look up
            return row_outcome.failed(values["code"], question.problem.title)
        return values
    if isinstance(question, SeveralFaces):
        return several_faces(question.seen.count)
    if isinstance(question, LikelyDuplicates):
        return possible_duplicate(face_set_id, question.matches[0])
    return None


def several_faces(count: int) -> dict:
    reason = ngettext("%(num)d face in the picture", "%(num)d faces in the picture", count)
    return row_outcome.held(SEVERAL_FACES, reason + ". " + _("Held for checking: enrolling it would file the largest "
                                                             "face under this row's name."))


def possible_duplicate(face_set_id: str, match: Match) -> dict:
    entry = enrolments_for(face_set_id, [match.face_id]).get(match.face_id)
    who = match.name or match.external_reference_id or _("face %(id)s", id=match.face_id)
    score = _("score %(score)s", score=number_text(match.score)) if match.score is not None else _("score not given")
    return row_outcome.held(POSSIBLE_DUPLICATE, _(
        "Held for checking: looks like %(who)s, already in this face set (face %(face_id)s, %(score)s).",
        who=who, face_id=match.face_id, score=score), match_register_id=entry.id if entry else None)
