"""Searching a face set (1:N): the one way the portal sends Search, for the search form and for the
duplicate check before an enrolment. Both return matches best first, ID numbers masked."""
from __future__ import annotations

from dataclasses import dataclass

from facesite.advance import AdvanceError
from facesite.audit import acting_for
from facesite.faces.detection import FacesSeen, from_search
from facesite.faces.enrolment import release_connection
from facesite.faces.problems import explain
from facesite.faces.results import Match, Picture, Refused, SearchResult
from facesite.models import FaceSet
from facesite.upstream import vendor

# The vendor's own defaults, used when neither staff nor the face set say otherwise.
DEFAULT_TOP_K, DEFAULT_THRESHOLD = 20, 80
DUPLICATE_CHECK_TOP_K = 5


def lower_threshold(threshold: float) -> float | None:
    """A threshold to try when nobody scored above ``threshold``: 60 from a strict one, else half of it
    (at 30 the page once suggested 60); None at 0, below which there is nothing."""
    if threshold <= 0:
        return None
    return 60.0 if threshold > 60 else float(int(threshold) // 2)


def search_settings(face_set: FaceSet | None, top_k: int | None, threshold: float | None) -> tuple[int, float]:
    """(topK, threshold) for a search: as asked, else the face set's defaults, else the vendor's."""
    if top_k is None:
        top_k = (face_set and face_set.default_top_k) or DEFAULT_TOP_K
    if threshold is None:
        default = face_set.default_threshold if face_set else None
        threshold = DEFAULT_THRESHOLD if default is None else default
    return top_k, float(threshold)


def _search(face_set_id: str, picture: Picture, top_k: int, threshold: float, by: str):
    release_connection()
    with acting_for(by):
        answer = vendor().search(face_set_id, picture.data, filename=picture.filename,
                                 mime_type=picture.facts.mime_type, top_k=top_k, threshold=threshold)
    return answer, tuple(Match.found(face) for face in answer.faces)


def search(face_set: FaceSet, picture: Picture, *, by: str, top_k: int | None = None,
           threshold: float | None = None) -> SearchResult | Refused:
    """Faces in the set that look like the picture (a charged call)."""
    top_k, threshold = search_settings(face_set, top_k, threshold)
    face_set_id, label = face_set.id, face_set.label
    try:
        answer, matches = _search(face_set_id, picture, top_k, threshold, by)
    except AdvanceError as error:
        return Refused(explain(error), error)
    return SearchResult(face_set_id, label, top_k, threshold, picture.kept_id, matches,
                        answer.transaction_id, answer.pricing_strategy)


@dataclass(frozen=True)
class DuplicateCheck:
    matches: tuple[Match, ...]  # best first; empty when nobody in the set looks like the picture
    faces: FacesSeen | None  # how many faces the search saw in the picture, when its answer says


def find_duplicates(face_set: FaceSet, picture: Picture, *, by: str) -> DuplicateCheck | Refused:
    """People already in the set who look like this picture, before enrolling it (a charged search at
    the set's own threshold)."""
    _, threshold = search_settings(face_set, None, None)
    try:
        answer, matches = _search(face_set.id, picture, DUPLICATE_CHECK_TOP_K, threshold, by)
    except AdvanceError as error:
        return Refused(explain(error), error)
    return DuplicateCheck(matches, from_search(answer.face_count, answer.face))
