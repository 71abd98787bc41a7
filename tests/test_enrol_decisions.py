"""What the enrol page decides before Add Face, without a browser: the duplicate check's admin setting,
the sandbox's face detection as the portal's pre-check, and a vendor's search answer that counts faces."""
from __future__ import annotations

import re

from facesite.extensions import db
from facesite.models import SecurityEvent
from facesite.sandbox import operator_api
from tests.support import EnrolPage, face, make_app, sign_in
from tests.support.pictures import side_by_side
from tests.support.servers import envelope


def ticked(html: str, name: str) -> bool:
    return re.search(rf'<input checked id="{name}"', html) is not None


def test_the_duplicate_check_is_ticked_by_default_and_an_administrator_can_change_that(app):
    operator = sign_in(app.test_client())
    assert ticked(EnrolPage(operator).open(), "checkDuplicates")
    # A batch is offered the check (a charged search per row), not given it unasked.
    assert not ticked(operator.get("/batch/new").get_data(as_text=True), "checkDuplicates")

    admin = sign_in(app.test_client(), "admin")
    html = admin.get("/admin/settings").get_data(as_text=True)
    assert ticked(html, "check_duplicates") and ticked(html, "prepare_pictures")
    answer = admin.post("/admin/settings", data={"csrf_token": EnrolPage.hidden(html, "csrf_token"),
                                                  "prepare_pictures": "y"})
    assert answer.status_code == 303
    assert not ticked(EnrolPage(operator).open(), "checkDuplicates")
    with app.app_context():
        changes = db.session.scalars(db.select(SecurityEvent.subject).where(SecurityEvent.event == "setting_changed"))
        assert list(changes) == ["check_duplicates"]


def test_the_default_comes_from_the_environment(sandbox):
    client = sign_in(make_app(sandbox.url, {"CHECK_DUPLICATES": "0"}).test_client())
    assert not ticked(EnrolPage(client).open(), "checkDuplicates")


def test_the_sandbox_finds_every_face_largest_first_without_adding_any(sandbox, face_set):
    boxes = operator_api.detect_faces(sandbox.url, face("obama_and_biden.jpg"), "group.jpg", "image/jpeg")
    assert len(boxes) == 3
    areas = [box["width"] * box["height"] for box in boxes]
    assert areas == sorted(areas, reverse=True)
    assert len(operator_api.detect_faces(sandbox.url, face("obama.jpg"), "one.jpg", "image/jpeg")) == 1
    assert sandbox.store.count_faces(face_set) == 0


def test_a_group_photo_is_asked_about_and_a_new_picture_is_asked_about_again(client, sandbox, face_set):
    page = EnrolPage(client)
    asked = page.send(side_by_side(face("obama.jpg"), face("biden.jpg")), faceSetId=face_set, name="Two")
    text = asked.get_data(as_text=True)
    assert asked.status_code == 409 and "2 faces in this picture" in text
    assert 'src="data:image/jpeg;base64,' in text  # the picture with the faces outlined
    assert sandbox.store.count_faces(face_set) == 0
    # Another group photo attached instead of answering: it is a new picture, so the page asks again.
    again = page.send(face("obama_and_biden.jpg"), html=text, faceSetId=face_set, name="Two",
                      facesSeen=EnrolPage.hidden(text, "facesSeen"))
    assert again.status_code == 409 and "3 faces in this picture" in again.get_data(as_text=True)
    html = again.get_data(as_text=True)
    enrolled = page.send(None, html=html, faceSetId=face_set, name="Two", facesSeen=EnrolPage.hidden(html, "facesSeen"))
    assert enrolled.status_code == 303
    assert sandbox.store.count_faces(face_set) == 1


def test_choose_another_picture_drops_only_the_picture(client, face_set):
    page = EnrolPage(client)
    asked = page.send(face("obama_and_biden.jpg"), faceSetId=face_set, name="Ana", idCardType="KTP")
    html = asked.get_data(as_text=True)
    answer = page.send(None, html=html, faceSetId=face_set, name="Ana", idCardType="KTP", otherPicture="1",
                       facesSeen=EnrolPage.hidden(html, "facesSeen"))
    text = answer.get_data(as_text=True)
    assert answer.status_code == 200 and "Attach a picture of this person alone" in text
    assert 'value="Ana"' in text and 'value="KTP"' in text
    assert EnrolPage.hidden(text, "keptPicture") == "" and EnrolPage.hidden(text, "facesSeen") == ""


def test_a_vendor_search_that_counts_faces_asks_before_add_face(fake_app, fake_vendor):
    """With a real vendor nothing counts faces before a call; the duplicate check's search comes first,
    and when its answer says there are several faces the page asks then, without a second search."""
    fake_vendor.search.append(envelope(data={"total": 0, "faceReferences": []}, pricing="PAY", extra={
        "faceCount": 2, "faceRect": {"left": 10, "top": 10, "width": 300, "height": 300}}))
    page = EnrolPage(sign_in(fake_app.test_client()))
    asked = page.send(face("obama.jpg"), faceSetId="1", name="Two", checkDuplicates="y")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 409 and "2 faces in this picture" in html
    assert [r["call"] for r in fake_vendor.requests if r["call"] != "token"] == ["search"]
    done = page.send(None, html=html, faceSetId="1", name="Two", checkDuplicates="y",
                     facesSeen=EnrolPage.hidden(html, "facesSeen"),
                     duplicatesSeen=EnrolPage.hidden(html, "duplicatesSeen"))
    assert done.status_code == 303
    assert [r["call"] for r in fake_vendor.requests if r["call"] != "token"] == ["search", "add_face"]


def test_a_match_enrolled_elsewhere_offers_not_to_enrol_instead_of_a_record(fake_app, fake_vendor):
    """The vendor found someone the portal never enrolled (no register entry to open): the main action is
    then not to enrol, which starts an empty form."""
    fake_vendor.search.append(envelope(pricing="PAY", data={"total": 1, "faceReferences": [
        {"id": "999", "name": "Enrolled Elsewhere", "similarity": 97.5}]}))
    page = EnrolPage(sign_in(fake_app.test_client()))
    warned = page.send(face("obama.jpg"), faceSetId="1", name="New Person", checkDuplicates="y")
    html = warned.get_data(as_text=True)
    assert warned.status_code == 409 and "Enrolled Elsewhere" in html
    assert re.search(r'<a class="button primary" id="open-record" href="/enrol/\?faceSetId=1">\s*Same person: do not '
                     r'enrol</a>', html)
    assert 'id="enrol-anyway"' in html
