"""What enrolling and searching give back: typed results, and how they are kept between requests.

A result is kept (drafts.py) so the page after the redirect, a refresh or a second click shows it
again. It is kept as JSON under the vendor's field names, the same shape the portal always kept, so
results written before an upgrade still read.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from facesite.advance import AdvanceError, FaceReference
from facesite.countries import country_name
from facesite.faces.person import PersonDetails
from facesite.faces.problems import Problem
from facesite.id_numbers import mask_id_number
from facesite.pictures.sending import Picture  # noqa: F401  (what a result was made from)


@dataclass(frozen=True)
class Match:
    """A face a search found, as staff are shown it: the ID number masked."""

    face_id: str
    score: float | None
    name: str | None = None
    country: str | None = None
    id_card_type: str | None = None
    id_number: str | None = None
    external_reference_id: str | None = None
    created_at: str | None = None

    @property
    def country_name(self) -> str:
        return country_name(self.country)

    @classmethod
    def found(cls, face: FaceReference) -> "Match":
        return cls(face.face_id, face.score, face.name, face.country, face.id_card_type,
                   mask_id_number(face.id_number), face.external_reference_id, face.created_at)

    def to_json(self) -> dict:
        return {"faceId": self.face_id, "score": self.score, "name": self.name, "country": self.country,
                "idCardType": self.id_card_type, "idNumber": self.id_number,
                "externalReferenceId": self.external_reference_id, "createdAt": self.created_at}

    @classmethod
    def from_json(cls, value: dict) -> "Match":
        return cls(value["faceId"], value.get("score"), value.get("name"), value.get("country"),
                   value.get("idCardType"), value.get("idNumber"), value.get("externalReferenceId"),
                   value.get("createdAt"))


@dataclass(frozen=True)
class Enrolled:
    face_set_id: str
    face_set_label: str
    face_id: str
    transaction_id: str | None
    pricing_strategy: str | None
    note: str | None  # what the vendor said beside the result
    register_id: int | None  # None when the register could not be written (logged)
    person: PersonDetails  # as kept: the ID number masked
    picture_id: str | None
    preparation: str
    picture: dict = field(default_factory=dict)  # format, width, height, bytes of what was sent

    def to_json(self) -> dict:
        return {"state": "done", "faceId": self.face_id, "transactionId": self.transaction_id,
                "pricingStrategy": self.pricing_strategy, "note": self.note, "registerId": self.register_id,
                "faceSetId": self.face_set_id, "faceSetLabel": self.face_set_label,
                "details": self.person.api_fields(), "pictureId": self.picture_id,
                "preparation": self.preparation, "picture": self.picture}

    @classmethod
    def from_json(cls, value: dict) -> "Enrolled":
        return cls(value["faceSetId"], value.get("faceSetLabel") or value["faceSetId"], value["faceId"],
                   value.get("transactionId"), value.get("pricingStrategy"), value.get("note"),
                   value.get("registerId"), PersonDetails.from_api_fields(value["details"]),
                   value.get("pictureId"), value.get("preparation") or "", value.get("picture") or {})


@dataclass(frozen=True)
class SearchResult:
    face_set_id: str
    face_set_label: str
    top_k: int
    threshold: float
    picture_id: str | None
    matches: tuple[Match, ...]  # best first
    transaction_id: str | None
    pricing_strategy: str | None

    def to_json(self) -> dict:
        return {"state": "done", "faceSetId": self.face_set_id, "faceSetLabel": self.face_set_label,
                "topK": self.top_k, "threshold": self.threshold, "pictureId": self.picture_id,
                "matches": [match.to_json() for match in self.matches],
                "transactionId": self.transaction_id, "pricingStrategy": self.pricing_strategy}

    @classmethod
    def from_json(cls, value: dict) -> "SearchResult":
        return cls(value["faceSetId"], value.get("faceSetLabel") or value["faceSetId"], value["topK"],
                   value["threshold"], value.get("pictureId"), tuple(Match.from_json(m) for m in value["matches"]),
                   value.get("transactionId"), value.get("pricingStrategy"))


@dataclass(frozen=True)
class Refused:
    """A call that did not succeed: what staff are told, and the error it came from (which the
    batch runner reads to decide whether to wait, pause or go on)."""

    problem: Problem
    error: AdvanceError | None = None


Outcome = Enrolled | SearchResult | Refused


def outcome_to_json(outcome: Outcome) -> dict:
    if isinstance(outcome, Refused):
        return {"state": "failed", "problem": asdict(outcome.problem)}
    return outcome.to_json()


def outcome_from_json(value: dict | None) -> Outcome | None:
    """A kept outcome read back; None when there is none (or it cannot be read)."""
    if not isinstance(value, dict):
        return None
    try:
        if value.get("state") == "failed":
            return Refused(Problem(**value["problem"]))
        if "matches" in value:
            return SearchResult.from_json(value)
        if "details" in value:
            return Enrolled.from_json(value)
    except (KeyError, TypeError):
        pass
    return None
