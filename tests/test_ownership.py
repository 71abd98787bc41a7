"""Results, kept pictures and batch jobs belong to whoever made them (administrators see all); anyone
else is told "not found", exactly as for an id that does not exist."""
from __future__ import annotations

import re

import pytest

from facesite.drafts import new_id
from facesite.extensions import db
from facesite.models import BatchJob, BatchRow, SecurityEvent, VendorCall
from tests.support import EnrolPage, face, make_app, staff_work
from tests.support.batch_files import make_manifest, make_zip
from tests.support.pictures import plain
from tests.test_batch import BatchPage
from tests.test_search import SearchPage

JOB_ACTIONS = ("start", "pause", "resume", "retry", "discard")


@pytest.fixture
def app(sandbox):
    portal = make_app(sandbox.url)
    staff_work.add_staff(portal, "olga", "operator")
    return portal


@pytest.fixture
def staff(app):
    return {"vera": staff_work.signed_in(app, "viewer"), "otto": staff_work.signed_in(app, "operator"),
            "olga": staff_work.signed_in(app, "operator", "olga"), "ada": staff_work.signed_in(app, "admin")}


def without_csrf_token(response) -> str:
    """A page as text, less its CSRF tokens (signed with the time: two pages a second apart differ) and its
    request id (each request's own). Every form carrying a token counts, whatever the order of its
    attributes (the sign-out form writes type first)."""
    page = re.sub(r'(<input[^>]*name="csrf_token"[^>]*value=")[^"]*"', r'\1"', response.get_data(as_text=True))
    return page.replace(response.headers["X-Request-Id"], "")


def vendor_calls(app, call: str) -> list[str]:
    """Who made each vendor call of this kind, oldest first, as the audit trail says."""
    with app.app_context():
        return list(db.session.scalars(db.select(VendorCall.username).where(VendorCall.call == call)
                                       .order_by(VendorCall.id)))


def test_a_viewer_gets_404_for_an_operators_picture_and_results(app, staff, face_set):
    enrol_id, enrol_picture = staff_work.enrol(staff["otto"], face_set)
    search_id, search_picture = staff_work.search(staff["otto"], face_set)
    nobody = staff["vera"].get(f"/picture/{new_id()}")
    assert nobody.status_code == 404
    for url in (f"/picture/{enrol_picture}", f"/picture/{search_picture}", f"/search/results/{search_id}"):
        assert staff["otto"].get(url).status_code == 200, url
        probed = staff["vera"].get(url)
        assert probed.status_code == 404 and without_csrf_token(probed) == without_csrf_token(nobody), url
        assert staff["olga"].get(url).status_code == 404, url
    assert staff["olga"].get(f"/enrol/done/{enrol_id}").status_code == 404
    with app.app_context():
        denied = db.session.scalars(db.select(SecurityEvent.actor).where(SecurityEvent.event == "access_denied"))
        assert "vera" in set(denied)  # the probe is in the security log, though the answer says nothing


def test_someone_elses_kept_picture_cannot_be_sent_in_a_form(app, staff, face_set):
    _, picture_id = staff_work.enrol(staff["otto"], face_set)
    searches = len(vendor_calls(app, "search"))
    page = SearchPage(staff["vera"])
    answer = page.send(None, html=page.open(f"/search/?picture={picture_id}&faceSetId={face_set}"),
                       faceSetId=face_set)
    assert answer.status_code == 422
    assert "The picture from your last attempt has expired" in answer.get_data(as_text=True)
    assert len(vendor_calls(app, "search")) == searches  # nothing was searched with otto's picture


def test_a_form_sent_with_someone_elses_submission_id_shows_them_nothing(app, staff, face_set):
    enrol_id, _ = staff_work.enrol(staff["otto"], face_set, name="Person of Otto")
    added = len(vendor_calls(app, "add_face"))
    answer = EnrolPage(staff["olga"]).send(face("biden.jpg"), faceSetId=face_set, submissionId=enrol_id,
                                           name="Person of Olga")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "This form cannot be sent as it was." in body
    assert 'value="Person of Olga"' in body  # the form is kept
    assert "Person of Otto" not in body and enrol_id not in body
    assert len(vendor_calls(app, "add_face")) == added


def test_an_enrol_result_url_with_a_search_id_and_the_reverse_are_404(staff, face_set):
    enrol_id, _ = staff_work.enrol(staff["otto"], face_set)
    search_id, _ = staff_work.search(staff["otto"], face_set)
    assert staff["otto"].get(f"/enrol/done/{search_id}").status_code == 404
    assert staff["otto"].get(f"/search/results/{enrol_id}").status_code == 404
    assert staff["ada"].get(f"/enrol/done/{search_id}").status_code == 404


def test_another_operator_gets_404_for_a_job_its_progress_results_and_actions(app, staff, face_set):
    job_id = staff_work.batch_job(staff["otto"], face_set)
    row_id = staff_work.first_row(app, job_id)
    olga, token = staff["olga"], staff_work.csrf_token(staff["olga"])
    for url in (f"/batch/{job_id}", f"/batch/{job_id}/progress", f"/batch/{job_id}/results.csv"):
        assert olga.get(url).status_code == 404, url
    for action in (*JOB_ACTIONS, f"rows/{row_id}/resend"):
        assert olga.post(f"/batch/{job_id}/{action}", data={"csrf_token": token}).status_code == 404, action
    assert f'href="/batch/{job_id}"' not in olga.get("/batch/").get_data(as_text=True)
    assert f'href="/batch/{job_id}"' in staff["otto"].get("/batch/").get_data(as_text=True)
    assert f'href="/batch/{job_id}"' in staff["ada"].get("/batch/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(BatchJob, job_id).state == "review"  # nothing olga sent did anything


def test_administrators_see_and_act_on_everyones_things(app, staff, face_set):
    enrol_id, picture_id = staff_work.enrol(staff["otto"], face_set)
    search_id, _ = staff_work.search(staff["vera"], face_set)
    job_id = staff_work.batch_job(staff["otto"], face_set)
    ada = staff["ada"]
    for url in (f"/enrol/done/{enrol_id}", f"/picture/{picture_id}", f"/search/results/{search_id}",
                f"/batch/{job_id}", f"/batch/{job_id}/progress", f"/batch/{job_id}/results.csv"):
        with ada.get(url) as answer:  # closed: a streamed CSV holds its request's context until then
            assert answer.status_code == 200, url
    assert BatchPage(ada).act(job_id, "start").status_code == 303
    assert BatchPage(ada).wait(job_id)["done"] == 1


def test_the_audit_trail_names_whoever_started_or_retried_a_job_not_its_creator(app, staff, face_set):
    files = {"face.jpg": face("obama.jpg"), "wall.jpg": plain(400, 400)}  # the wall has no face: it fails
    rows = [{"faceImage": name, "name": name} for name in files]
    otto, ada = BatchPage(staff["otto"]), BatchPage(staff["ada"])
    job_id = otto.job_id(otto.upload(make_zip(files), make_manifest(rows), face_set))
    assert otto.act(job_id, "start").status_code == 303
    assert otto.wait(job_id)["failed"] == 1
    assert vendor_calls(app, "add_face") == ["otto", "otto"]
    with app.app_context():  # as if the vendor had failed on its side: a failure a retry may fix
        db.session.execute(db.update(BatchRow).where(BatchRow.job_id == job_id, BatchRow.state == "failed")
                           .values(code="ERROR"))
        db.session.commit()
    assert ada.act(job_id, "retry").status_code == 303  # an administrator retries the failed row
    assert ada.wait(job_id)["failed"] == 1
    assert vendor_calls(app, "add_face") == ["otto", "otto", "ada"]
    page = re.sub(r"\s+", " ", staff["otto"].get(f"/batch/{job_id}").get_data(as_text=True))
    assert "Uploaded by otto" in page and "Sent in the name of ada" in page
