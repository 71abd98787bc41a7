"""The domain's front door called directly, as the enrol and search views and the batch runner call it:
``enrol``, ``search`` and ``ask_before_enrolling`` against a scripted vendor over real HTTP (and, for the
several-faces question, the sandbox's detector)."""
from __future__ import annotations

import pytest

from facesite import faces
from facesite.extensions import db
from facesite.models import Enrolment, FaceSet, VendorCall
from facesite.pictures.sending import picture_to_send
from tests.support import face, make_app
from tests.support.servers import envelope

VENDOR_ACCOUNT = {"ADVANCE_ACCESS_KEY": "key", "ADVANCE_SECRET_KEY": "secret", "SECRET_KEY": "a long test secret" * 2}


@pytest.fixture
def portal(fake_vendor):
    """A portal with vendor credentials (so no sandbox detector is asked) in an app context."""
    app = make_app(fake_vendor.url, VENDOR_ACCOUNT, ADVANCE_READ_TIMEOUT=2)
    with app.app_context():
        yield app


def a_face_set(face_set_id="branch-1") -> FaceSet:
    return db.session.get(FaceSet, face_set_id)


def test_enrol_sends_every_detail_keeps_the_number_masked_and_names_the_clerk(portal, fake_vendor):
    fake_vendor.add_face.append(envelope(data="7001", transaction_id="txn-77"))
    person = faces.PersonDetails(name="Siti Rahma", country="ID", id_number="3171234567890001",
                                 id_card_type="KTP").traceable()

    outcome = faces.enrol("branch-1", person, picture_to_send(face("obama.jpg")), by="otto")

    assert isinstance(outcome, faces.Enrolled)
    assert (outcome.face_id, outcome.transaction_id, outcome.person.id_number) == ("7001", "txn-77", "••••0001")
    sent = fake_vendor.calls("add_face")[0]["form"]
    assert sent["idNumber"] == "3171234567890001" and sent["name"] == "Siti Rahma" and sent["faceSetId"] == "branch-1"
    entry = db.session.get(Enrolment, outcome.register_id)
    assert (entry.face_id, entry.id_number_masked, entry.enrolled_by) == ("7001", "••••0001", "otto")
    assert "3171234567890001" not in repr(vars(entry))
    call = db.session.scalars(db.select(VendorCall).filter_by(call="add_face")).one()
    assert (call.username, call.outcome_code, call.id_number_masked) == ("otto", "SUCCESS", "••••0001")


def test_enrol_refused_by_the_vendor_is_explained_and_nothing_is_registered(portal, fake_vendor):
    fake_vendor.add_face.append(envelope("PARAMETER_ERROR", "No face detected", transaction_id="txn-no-face"))

    outcome = faces.enrol("branch-1", faces.PersonDetails(name="Nobody").traceable(),
                          picture_to_send(face("obama.jpg")), by="otto")

    assert isinstance(outcome, faces.Refused)
    assert outcome.problem.message == "No face detected" and outcome.problem.code == "PARAMETER_ERROR"
    assert outcome.problem.transaction_id == "txn-no-face"
    assert db.session.scalar(db.select(db.func.count()).select_from(Enrolment)) == 0


def test_search_ranks_matches_best_first_with_numbers_masked_at_the_face_sets_defaults(portal, fake_vendor):
    a_face_set().default_top_k, a_face_set().default_threshold = 3, 65
    db.session.commit()
    fake_vendor.search.append(envelope(data={"total": 2, "faceReferences": [
        {"id": "11", "similarity": 71.5, "name": "Second"},
        {"id": "12", "similarity": 93.25, "name": "Best", "idNumber": "3171234567890002"}]}, pricing="PAY"))

    outcome = faces.search(a_face_set(), picture_to_send(face("obama2.jpg")), by="vera")

    assert isinstance(outcome, faces.SearchResult)
    assert [(m.face_id, m.score, m.name) for m in outcome.matches] == [("12", 93.25, "Best"), ("11", 71.5, "Second")]
    assert outcome.matches[0].id_number == "••••0002" and outcome.pricing_strategy == "PAY"
    sent = fake_vendor.calls("search")[0]["form"]
    assert (sent["topK"], float(sent["threshold"])) == ("3", 65.0)


def test_search_the_vendor_is_too_busy_for_is_refused_with_its_wait(portal, fake_vendor):
    fake_vendor.search.append(({"code": "SERVICE_BUSY", "message": "busy", "data": None}, 429, {"Retry-After": "7"}))

    outcome = faces.search(a_face_set(), picture_to_send(face("obama2.jpg")), by="vera")

    assert isinstance(outcome, faces.Refused) and outcome.problem.code == "SERVICE_BUSY"
    assert "7 seconds" in outcome.problem.advice and outcome.problem.status == 503


def test_no_question_without_the_duplicate_check_and_no_charged_search(portal, fake_vendor):
    question = faces.ask_before_enrolling(a_face_set(), picture_to_send(face("obama.jpg")), by="otto",
                                          check_duplicates=False)
    assert question is None and fake_vendor.calls("search") == []


def test_people_who_look_alike_come_before_the_faces_the_search_saw(portal, fake_vendor):
    fake_vendor.search.append(envelope(data={"total": 1, "faceReferences": [{"id": "31", "similarity": 88}]},
                                       extra={"faceCount": 2}, pricing="PAY"))

    question = faces.ask_before_enrolling(a_face_set(), picture_to_send(face("obama.jpg")), by="otto",
                                          check_duplicates=True)

    assert isinstance(question, faces.LikelyDuplicates) and [m.face_id for m in question.matches] == ["31"]


def test_several_faces_seen_by_the_search_are_asked_about_once_answered_never_again(portal, fake_vendor):
    fake_vendor.search.append(envelope(data={"total": 0, "faceReferences": []}, extra={"faceCount": 3},
                                       pricing="PAY"))
    picture = picture_to_send(face("obama_and_biden.jpg"))

    question = faces.ask_before_enrolling(a_face_set(), picture, by="otto", check_duplicates=True)
    assert isinstance(question, faces.SeveralFaces) and question.seen.count == 3 and question.searched

    answered = faces.ask_before_enrolling(a_face_set(), picture, by="otto", check_duplicates=True,
                                          largest_face_chosen=True, duplicates_answered=True)
    assert answered is None and len(fake_vendor.calls("search")) == 1  # the charged search was made once


def test_a_failed_duplicate_search_is_a_refusal_not_a_silent_enrolment(portal, fake_vendor):
    fake_vendor.search.append(envelope("INSUFFICIENT_BALANCE", "balance is not enough"))

    question = faces.ask_before_enrolling(a_face_set(), picture_to_send(face("obama.jpg")), by="otto",
                                          check_duplicates=True)

    assert isinstance(question, faces.Refused) and question.problem.code == "INSUFFICIENT_BALANCE"


def test_the_sandbox_detector_asks_about_a_group_photo_before_any_search(sandbox, face_set):
    app = make_app(sandbox.url)
    with app.app_context():
        picture = picture_to_send(face("obama_and_biden.jpg"))
        question = faces.ask_before_enrolling(db.session.get(FaceSet, face_set), picture, by="otto",
                                              check_duplicates=True)
        assert isinstance(question, faces.SeveralFaces) and question.seen.count >= 2 and not question.searched
        assert db.session.scalar(db.select(db.func.count()).select_from(VendorCall)) == 0  # nothing charged
