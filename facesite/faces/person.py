"""The optional details a face is enrolled with, and the one set of rules they must follow.

The enrol form and every batch manifest row are checked here, so both accept and refuse the same
values with the same words. Values are keyed by the vendor's field names wherever they cross a
boundary (forms, manifests, the API); inside the portal they travel as ``PersonDetails``.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from flask_babel import gettext as _

from facesite.advance import ADD_FACE_DETAILS
from facesite.countries import country_code, country_name
from facesite.id_numbers import mask_id_number

# The longest value the portal accepts for each detail.
MAX_LENGTH = {"externalReferenceId": 128, "name": 128, "idNumber": 64, "idCardType": 64, "country": 64}


def unknown_country(value: str) -> str:
    return _("%(value)s is not an ISO 3166-1 country: pick one from the list or type its two-letter code.",
             value=repr(value))


def check_detail(api_name: str, value: str | None) -> tuple[str | None, str | None]:
    """(the value as it will be sent, what is wrong with it or None). Empty means not given."""
    value = value.strip() if isinstance(value, str) else value
    if not value:
        return None, None
    if len(value) > MAX_LENGTH[api_name]:
        return value, _("longer than %(count)s characters", count=MAX_LENGTH[api_name])
    if api_name == "country":
        code = country_code(value)
        return (code, None) if code else (value, unknown_country(value))
    return value, None


@dataclass(frozen=True)
class PersonDetails:
    external_reference_id: str | None = None
    name: str | None = None
    id_number: str | None = None  # in full only until it is sent; everything kept holds it masked
    id_card_type: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2

    @property
    def country_name(self) -> str:
        return country_name(self.country)

    def api_fields(self) -> dict:
        """By the vendor's field names, as Add Face takes them (empty ones as None)."""
        values = {"externalReferenceId": self.external_reference_id, "idNumber": self.id_number,
                  "idCardType": self.id_card_type, "country": self.country, "name": self.name}
        return {name: values[name] for name in ADD_FACE_DETAILS}

    @classmethod
    def from_api_fields(cls, fields: dict) -> "PersonDetails":
        return cls(fields.get("externalReferenceId"), fields.get("name"), fields.get("idNumber"),
                   fields.get("idCardType"), fields.get("country"))

    def traceable(self) -> "PersonDetails":
        """Every enrolment can be traced: the vendor gets a reference even when staff leave it empty."""
        return self if self.external_reference_id else replace(self, external_reference_id=str(uuid.uuid4()))

    def masked(self) -> "PersonDetails":
        return replace(self, id_number=mask_id_number(self.id_number))


def check_person(fields: dict) -> tuple[PersonDetails, dict[str, str]]:
    """The details given by API field name, checked: (details as they will be sent, problems by field)."""
    values, problems = {}, {}
    for name in ADD_FACE_DETAILS:
        values[name], problem = check_detail(name, fields.get(name))
        if problem:
            problems[name] = problem
    return PersonDetails.from_api_fields(values), problems
