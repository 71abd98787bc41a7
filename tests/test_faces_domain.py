"""The domain layer's decisions, without HTTP, a browser or the face engine: the rules every person's
details follow (form and batch alike), how a search answer becomes ranked matches, the search
defaults, and how results are kept between requests (results kept before an upgrade still read)."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from facesite.advance import SearchAnswer, TransportError, TransportFailure, VendorError, VendorResponse
from facesite.faces.person import PersonDetails, check_person
from facesite.faces.problems import explain
from facesite.faces.results import Enrolled, Match, Refused, SearchResult, outcome_from_json, outcome_to_json
from facesite.faces.searching import DEFAULT_THRESHOLD, DEFAULT_TOP_K, search_settings
from facesite.id_numbers import mask_id_number


def test_details_are_stripped_countries_become_codes_and_empty_means_not_given():
    person, problems = check_person({"name": "  Ana Lima ", "country": "indonesia", "idNumber": "",
                                     "externalReferenceId": None})
    assert problems == {}
    assert person == PersonDetails(name="Ana Lima", country="ID")
    assert person.api_fields() == {"externalReferenceId": None, "idNumber": None, "idCardType": None,
                                   "country": "ID", "name": "Ana Lima"}


@pytest.mark.parametrize("field, value, words", [
    ("name", "x" * 129, "longer than 128 characters"),
    ("externalReferenceId", "r" * 129, "longer than 128 characters"),
    ("idNumber", "9" * 65, "longer than 64 characters"),
    ("idCardType", "t" * 65, "longer than 64 characters"),
    ("country", "Narnia", "'Narnia' is not an ISO 3166-1 country"),
    ("country", "Q" * 65, "longer than 64 characters"),  # never looked up: a long value is refused first
])
def test_every_detail_has_one_rule_with_one_wording(field, value, words):
    person, problems = check_person({field: value, "name": "Ana"} if field != "name" else {field: value})
    assert list(problems) == [field] and problems[field].startswith(words)


def test_the_longest_accepted_values_pass():
    _, problems = check_person({"name": "x" * 128, "externalReferenceId": "r" * 128, "idNumber": "9" * 64,
                                "idCardType": "t" * 64, "country": "MX"})
    assert problems == {}


def test_every_enrolment_gets_a_reference_and_only_a_masked_id_number_is_kept():
    person = PersonDetails(name="Ana", id_number="3201999988887777")
    traced = person.traceable()
    assert len(traced.external_reference_id) == 36 and traced.traceable() == traced
    assert traced.masked().id_number == "••••7777" and mask_id_number("123") == "••••" and mask_id_number("") is None


def test_a_search_answer_ranks_best_first_and_keeps_faces_without_a_score_last():
    envelope = VendorResponse("SUCCESS", "OK", data={"faceReferences": [
        {"id": 1, "similarity": "71.5", "name": "B"}, {"id": "2", "name": "No score"},
        {"id": 3, "similarity": 93.2, "idNumber": "3201999988887777"}, "not a face", {"id": 4, "similarity": None}]})
    answer = SearchAnswer.from_envelope(envelope, "similarity")
    assert [(face.face_id, face.score) for face in answer.faces] == [("3", 93.2), ("1", 71.5), ("2", None),
                                                                     ("4", None)]
    best = Match.found(answer.faces[0])
    assert best.id_number == "••••7777"  # what staff are shown, and what is kept
    assert SearchAnswer.from_envelope(VendorResponse("SUCCESS", "OK", data=None), "similarity").faces == ()


def test_search_settings_come_from_staff_then_the_face_set_then_the_vendor():
    face_set = SimpleNamespace(default_top_k=5, default_threshold=0)
    assert search_settings(None, None, None) == (DEFAULT_TOP_K, DEFAULT_THRESHOLD)
    assert search_settings(face_set, None, None) == (5, 0.0)  # a threshold of 0 is a setting, not "none"
    assert search_settings(face_set, 3, 65) == (3, 65.0)


def test_kept_results_read_back_as_the_same_types():
    enrolled = Enrolled("1", "Branch 1", "101", "t-1", "FREE", None, 7, PersonDetails(name="Ana", id_number="••••7777"),
                        "pic", "Rotated upright", {"format": "JPEG", "width": 600, "height": 800, "bytes": 1000})
    found = SearchResult("1", "Branch 1", 20, 80.0, None, (Match("101", 91.0, name="Ana"),), "t-2", "PAY")
    refused = Refused(explain(VendorError(VendorResponse("PARAMETER_ERROR", "No face detected"), step="add_face")))
    for outcome in (enrolled, found):
        assert outcome_from_json(outcome_to_json(outcome)) == outcome
    assert outcome_from_json(outcome_to_json(refused)) == Refused(refused.problem)  # the error itself is not kept
    assert refused.problem.field == "faceImage" and refused.problem.status == 422


def test_a_result_kept_by_an_older_portal_still_reads():
    older = {"state": "done", "faceId": "101", "transactionId": "t", "pricingStrategy": "FREE", "note": None,
             "registerId": 3, "faceSetId": "1", "faceSetLabel": "One",
             "details": {"name": "Ana", "idNumber": "••••7777", "country": "ID", "externalReferenceId": "r",
                         "idCardType": None},
             "pictureId": "p", "preparation": "", "picture": {"format": "PNG", "width": 300, "height": 300, "bytes": 9}}
    enrolled = outcome_from_json(older)
    assert isinstance(enrolled, Enrolled) and enrolled.person.country_name == "Indonesia"
    assert outcome_from_json({"state": "done", "faceId": "1"}) is None  # unreadable: treated as not there
    assert outcome_from_json(None) is None


def test_transport_failures_are_a_closed_set_with_their_audit_codes():
    error = TransportError("timeout", "no answer", may_have_reached=True, step="add_face")
    assert error.kind is TransportFailure.TIMEOUT and error.kind.audit_code == "TRANSPORT_TIMEOUT"
    assert explain(error, reference="ref-9").maybe_done and "ref-9" in explain(error, reference="ref-9").advice
    with pytest.raises(ValueError):
        TransportError("gremlins", "?", may_have_reached=False)


def test_the_lower_threshold_offered_after_no_match_is_lower():
    """Issue 18: at threshold 30 the no-match page suggested "a lower threshold (for example 60)"."""
    from facesite.faces.searching import lower_threshold

    assert [lower_threshold(t) for t in (95, 80, 61, 60, 30, 1.5, 0)] == [60, 60, 60, 30, 15, 0, None]
