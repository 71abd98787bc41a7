"""What one fuzz example does, drawn as plain data before anything is sent.

Hypothesis replays and extends the choices it made; that only works when what is drawn never depends
on what the portal answered. So a plan holds numbers (which route, which form, which known id) and
values, and tests/test_fuzz.py maps them onto the portal as it is when the plan runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hypothesis import strategies as st

from facesite.faces.problems import VENDOR_CODES
from tests.support.fuzz_archives import batch_upload
from tests.support.fuzz_http import body_encoders, header_pairs, query_strings
from tests.support.fuzz_payloads import choice_of, file_names, hostile_text, pictures
from tests.support.fuzz_portal import ROLES
from tests.support.servers import envelope, reset_connection

ODD_METHODS = ["PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "PROPFIND", "get", "G\x00T", "X" * 300]
ODD_INTS = [0, 1, 2 ** 31, 2 ** 63, 10 ** 30, 10 ** 300]
STATIC_PATHS = ["style.css", "../app.py", "..%2f..%2fapp.py", "%00", "batch.js/", "a" * 5000, "x" * 70_000]
NUMBER = st.integers(0, 10 ** 6)


@dataclass
class Argument:
    """How to fill one converter of a route: 0-1 an id that exists, 2 an odd number, 3 a drawn number or text."""
    choice: int
    number: int
    text: str
    percent_encoded: bool


@dataclass
class RoutePlan:
    rule: int
    method: int | str  # an index into the rule's methods, or an odd method
    arguments: list[Argument]
    query: str
    headers: list
    encode_body: Callable
    with_csrf: bool
    field: tuple[str, str]


@dataclass
class FieldPlan:
    how: str  # keep, plausible, fuzz, omit
    number: int
    text: str


@dataclass
class FormPlan:
    form: int
    fields: list[FieldPlan]
    extra_field: tuple[str, str] | None
    every_field_twice: bool
    picture: bytes
    picture_name: str
    picture_type: str | None
    upload: Callable[[], tuple[bytes, bytes | None]]
    zip_name: str
    csv_name: str
    encode_body: Callable
    vendor_answer: object
    odd_method: str | None
    query: str
    headers: list
    # Nearly valid: the form as the page gave it, a real photo, a proper body, and only the field at
    # ``mutated`` (an index, wrapped) as the plan says, so the fuzz reaches the vendor call and what follows.
    nearly_valid: bool
    mutated: int
    photo: str


@dataclass
class ProtocolPlan:
    rule: int
    method: int
    arguments: list[Argument]
    kind: str  # length, chunked, version, target, header lines, many headers
    variant: int
    text: str


arguments = st.lists(st.builds(Argument, st.integers(0, 3), NUMBER, hostile_text(), st.booleans()),
                     min_size=3, max_size=3)
some_headers = st.one_of(st.just(()), header_pairs())


def vendor_answers():
    """What the scripted vendor answers the next call with: None (SUCCESS), or a drawn fault."""
    matches = {"total": 1, "faceReferences": [{"faceId": "1000", "similarity": 97.5, "name": "<b>x</b>"}]}
    return st.one_of(
        st.none(),
        st.sampled_from(sorted(VENDOR_CODES) + ["UNHEARD_OF"]).map(
            lambda code: envelope(code, message=code.lower(), data=None)),
        choice_of([envelope("PARAMETER_ERROR", "FaceSet not found"), envelope("PARAMETER_ERROR", "No face detected"),
                   envelope(data=matches), envelope(data={"total": "x", "faceReferences": [{"similarity": "NaN"}]}),
                   envelope(data=[1, 2]), envelope(data=None), envelope(data="é" * 5000),
                   ("gateway down", 500, {}), ("<html>", 200, {"Content-Type": "text/html"}),
                   ("", 429, {"Retry-After": "99999999999"}), ("{}", 200, {"Content-Type": "application/json"}),
                   envelope("SERVICE_BUSY", extra={"retryAfter": -5}), reset_connection]),
    )


route_plans = st.builds(
    RoutePlan, NUMBER, st.one_of(NUMBER, st.sampled_from(ODD_METHODS)), arguments, query_strings(), some_headers,
    body_encoders(), st.booleans(), st.tuples(st.sampled_from(["role", "rows", "faceSetId", "x"]), hostile_text()))

field_plans = st.builds(FieldPlan, st.sampled_from(["keep"] * 5 + ["plausible"] * 2 + ["fuzz"] * 2 + ["omit"]),
                        NUMBER, hostile_text())

form_plans = st.builds(
    FormPlan, NUMBER, st.lists(field_plans, min_size=6, max_size=6),
    st.one_of(st.none(), st.tuples(st.text(max_size=10), hostile_text())), st.integers(0, 9).map(lambda n: n == 0),
    pictures(), file_names("face.jpg"), st.sampled_from(["image/jpeg", "application/octet-stream", None]),
    batch_upload(), file_names("batch.zip"), file_names("manifest.csv"), body_encoders(), vendor_answers(),
    st.one_of(st.none(), st.none(), st.none(), st.sampled_from(ODD_METHODS + ["GET"])),
    st.one_of(st.just(""), st.just(""), query_strings()), some_headers,
    st.integers(0, 2).map(lambda n: n == 0), NUMBER, st.sampled_from(["obama.jpg", "biden.jpg", "obama2.jpg", "png"]))

protocol_plans = st.builds(
    ProtocolPlan, NUMBER, NUMBER, arguments,
    st.sampled_from(["length", "chunked", "version", "target", "header lines", "many headers"]), NUMBER,
    hostile_text())

plans = st.tuples(st.sampled_from(ROLES), st.sampled_from([route_plans] * 4 + [form_plans] * 5 + [protocol_plans])
                  .flatmap(lambda chosen: chosen))
