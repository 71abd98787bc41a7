"""What a successful Add Face or Search answers, read out of the vendor's JSON into types.

Callers never look into ``data`` or ``extra`` themselves: the shapes of the vendor's JSON are
known here only. The whole envelope stays attached (``envelope``) for those who record it.
"""
from __future__ import annotations

from dataclasses import dataclass

from facesite.advance.envelope import VendorResponse


def is_face_id(value) -> bool:
    """A face id as the vendor documents it: a short number or text (the register keeps up to 64 characters)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return False
    text = str(value)
    return 0 < len(text) <= 64 and text.isprintable() and not text.isspace()


@dataclass(frozen=True)
class AddedFace:
    face_id: str
    transaction_id: str | None
    pricing_strategy: str | None
    note: str | None  # what the vendor said beside the result (the sandbox notes several faces here)
    envelope: VendorResponse
    face: FaceRect | None = None  # where the face it added is in the picture, when the answer says

    @classmethod
    def from_envelope(cls, answer: VendorResponse) -> "AddedFace":
        return cls(str(answer.data), answer.transaction_id, answer.pricing_strategy, _note(answer.extra), answer,
                   FaceRect.from_extra(answer.extra))


@dataclass(frozen=True)
class FaceRect:
    """A face's box in the picture sent (upright pixels), from ``extra.faceRect`` of an answer: the
    sandbox gives it; a vendor answer may. Anything but four sensible whole numbers is ignored."""

    left: int
    top: int
    width: int
    height: int

    @classmethod
    def from_extra(cls, extra) -> "FaceRect | None":
        rect = extra.get("faceRect") if isinstance(extra, dict) else None
        if not isinstance(rect, dict):
            return None
        values = [rect.get(name) for name in ("left", "top", "width", "height")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100_000 for v in values):
            return None
        face = cls(*values)
        return face if face.width > 0 and face.height > 0 else None


@dataclass(frozen=True)
class FaceReference:
    """One face a search found, with the optional details it was added with."""

    face_id: str
    score: float | None  # None when the vendor gave none (listed last, never dropped)
    name: str | None = None
    country: str | None = None
    id_card_type: str | None = None
    id_number: str | None = None  # as the vendor sent it: mask before keeping or showing it
    external_reference_id: str | None = None
    created_at: str | None = None

    @classmethod
    def from_json(cls, face: dict, score_field: str) -> "FaceReference":
        return cls(str(face.get("id", "")), _score(face.get(score_field)), _text(face.get("name")),
                   _text(face.get("country")), _text(face.get("idCardType")), _text(face.get("idNumber")),
                   _text(face.get("externalReferenceId")), _text(face.get("createdAt")))


@dataclass(frozen=True)
class SearchAnswer:
    faces: tuple[FaceReference, ...]  # best first
    transaction_id: str | None
    pricing_strategy: str | None
    envelope: VendorResponse
    face_count: int | None = None  # faces in the picture searched, when the answer says (the sandbox does)
    face: FaceRect | None = None  # the face searched with (the largest), when the answer says

    @classmethod
    def from_envelope(cls, answer: VendorResponse, score_field: str) -> "SearchAnswer":
        found = answer.data.get("faceReferences") if isinstance(answer.data, dict) else None
        faces = [FaceReference.from_json(face, score_field) for face in found or [] if isinstance(face, dict)]
        faces.sort(key=lambda face: (face.score is None, -(face.score or 0)))
        return cls(tuple(faces), answer.transaction_id, answer.pricing_strategy, answer,
                   _face_count(answer.extra), FaceRect.from_extra(answer.extra))


def _score(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(value) -> str | None:
    return None if value in (None, "") else str(value)


def _face_count(extra) -> int | None:
    count = extra.get("faceCount") if isinstance(extra, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and 0 < count <= 1000 else None


def _note(extra) -> str | None:
    if isinstance(extra, dict):  # its other keys (faceRect, faceCount) are read where they are used
        return str(extra["note"]) if extra.get("note") else None
    return None if extra in (None, "") else str(extra)
