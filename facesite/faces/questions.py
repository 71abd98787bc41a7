"""The questions asked before a face is enrolled, in one order, for the enrol form and every batch row.

Add Face files the largest face of a picture under the person's details, and adds a person who is already
in the face set a second time; neither can be undone by the portal. So before the call:

1. Is the picture of one person? (``detection.faces_in``: the sandbox's detector, free.)
2. When the duplicate check is on: is this person already in the face set? (``searching.find_duplicates``,
   a charged search, made once.) People who look alike come first; then whether the search's own answer
   saw several faces.

The enrol page stops and lets staff answer (everything typed kept); a batch row is held for a person to
check. Either way the answer given is passed back in (``largest_face_chosen``, ``duplicates_answered``) and
that question is not asked again.
"""
from __future__ import annotations

from dataclasses import dataclass

from facesite.faces.detection import FacesSeen, faces_in
from facesite.faces.results import Match, Picture, Refused
from facesite.faces.searching import find_duplicates
from facesite.models import FaceSet


@dataclass(frozen=True)
class SeveralFaces:
    """The picture holds more than one face."""

    seen: FacesSeen
    searched: bool = False  # the duplicate search has been made already (its answer saw the faces)


@dataclass(frozen=True)
class LikelyDuplicates:
    """People already in the face set who look like the picture, best first (the search has been made)."""

    matches: tuple[Match, ...]


Question = SeveralFaces | LikelyDuplicates


def ask_before_enrolling(face_set: FaceSet, picture: Picture, *, by: str, check_duplicates: bool,
                         largest_face_chosen: bool = False,
                         duplicates_answered: bool = False) -> Question | Refused | None:
    """The first question staff must answer before ``picture`` is enrolled into ``face_set``; a ``Refused``
    when the duplicate search failed; None when there is nothing to ask."""
    if not largest_face_chosen:
        seen = faces_in(picture)
        if seen and seen.several:
            return SeveralFaces(seen)
    if not check_duplicates or duplicates_answered:
        return None
    check = find_duplicates(face_set, picture, by=by)
    if isinstance(check, Refused):
        return check
    if check.matches:
        return LikelyDuplicates(check.matches)
    if check.faces and check.faces.several and not largest_face_chosen:
        return SeveralFaces(check.faces, searched=True)
    return None
