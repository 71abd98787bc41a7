"""Search answers turned into what staff read: ranked matches with the details they need."""
from __future__ import annotations

from facesite.audit import mask_id_number
from facesite.countries import country_name


def score_of(face: dict, score_field: str) -> float | None:
    try:
        return float(face[score_field])
    except (KeyError, TypeError, ValueError):
        return None


def matches_from(data, score_field: str) -> list[dict]:
    """The vendor's faceReferences, best first; a face without a score is listed last, not dropped.
    Only the last four characters of an ID number are kept."""
    faces = data.get("faceReferences") if isinstance(data, dict) else None
    matches = []
    for face in faces or []:
        if not isinstance(face, dict):
            continue
        matches.append({
            "faceId": str(face.get("id", "")), "score": score_of(face, score_field),
            "name": face.get("name"), "country": face.get("country"), "countryName": country_name(face.get("country")),
            "idCardType": face.get("idCardType"), "idNumber": mask_id_number(face.get("idNumber")),
            "externalReferenceId": face.get("externalReferenceId"), "createdAt": face.get("createdAt"),
        })
    return sorted(matches, key=lambda m: (m["score"] is None, -(m["score"] or 0)))
