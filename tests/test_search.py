"""Staff look people up: search, the face-set catalogue, the duplicate check and the register."""
import io
import re

import requests

from facesite.extensions import db
from facesite.models import Enrolment, FaceSet, VendorCall
from tests.support import OPERATOR, EnrolPage, face, make_app, sign_in
from tests.support.batch_files import read_csv
from tests.support.servers import envelope


class SearchPage(EnrolPage):
    def open(self, url="/search/"):
        return super().open(url)

    def send(self, picture, filename="face.jpg", html=None, **fields):
        html = html or self.open()
        data = {"csrf_token": self.hidden(html, "csrf_token"), "submissionId": self.hidden(html, "submissionId"),
                "keptPicture": self.hidden(html, "keptPicture"), **fields}
        if picture is not None:
            data["faceImage"] = (io.BytesIO(picture), filename)
        return self.client.post("/search/", data=data, content_type="multipart/form-data")


def text(response):
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def enrol(client, face_set, photo="obama.jpg", **details):
    answer = EnrolPage(client).send(face(photo), faceSetId=face_set, **details)
    assert answer.status_code == 303, text(answer)
    return answer


def test_search_finds_the_enrolled_person_first_with_details_and_thumbnail(app, client, face_set):
    enrol(client, face_set, name="Person A", country="US", idCardType="passport", idNumber="P1234567",
          externalReferenceId="ref-A")
    enrol(client, face_set, "biden.jpg", name="Person B")
    viewer = sign_in(app.test_client(), "viewer")  # search is open to viewers
    page = SearchPage(viewer)
    assert "A successful search is charged" in page.open()
    answer = page.send(face("obama2.jpg"), faceSetId=face_set)
    assert answer.status_code == 303
    results = viewer.get(answer.headers["Location"])
    body = text(results)
    names = re.findall(r'class="match-name"><strong>([^<]+)<', body)
    assert names == ["Person A"]
    assert "up to 20 matches scoring above 80" in body and "1 match." in body  # plurals, not "match(es)"
    score = float(re.search(r'<span class="score">([\d.]+)</span>', body).group(1))
    assert score > 80 and '<meter min="0" max="100"' in body
    for shown in ("US — United States", "passport", "••••4567", "ref-A", "PAY (charged)"):
        assert shown in body
    assert "P1234567" not in body
    thumb = re.search(r'<img class="thumb" src="(/register/\d+/thumbnail.jpg)"', body).group(1)
    assert viewer.get(thumb).mimetype == "image/jpeg"
    viewer.get(answer.headers["Location"])  # a refresh shows the results again without a second search
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(VendorCall)
                                 .where(VendorCall.call == "search")) == 1


def test_no_one_above_the_threshold_says_so_and_offers_a_lower_one(client, face_set):
    enrol(client, face_set, name="Person A")
    answer = SearchPage(client).send(face("biden.jpg"), faceSetId=face_set, threshold="80")
    body = text(client.get(answer.headers["Location"]))
    assert "No one above 80." in body and "lower minimum score (for example 60)" in body
    again = re.search(r'id="search-again"\s+href="([^"]+)"', body).group(1)
    assert "threshold=60" in again and "picture=" in again
    form = client.get(again.replace("&amp;", "&")).get_data(as_text=True)
    assert re.search(r'name="threshold"[^>]*value="60', form) and EnrolPage.hidden(form, "keptPicture")


def test_search_checks_the_picture_and_the_catalogue_before_any_call(app, client, sandbox):
    page = SearchPage(client)
    small = page.send(face("obama-240p.jpg"), faceSetId="demo")
    assert small.status_code == 422 and "Image resolution should be 256 * 256 to 4096 * 4096" in text(small)
    outside = page.send(face("obama.jpg"), faceSetId="never-heard-of-it")
    assert outside.status_code == 422 and "not in the portal&#39;s catalogue" in text(outside)
    bad_numbers = page.send(face("obama.jpg"), faceSetId="demo", topK="500", threshold="101")
    assert bad_numbers.status_code == 422
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(VendorCall)
                                 .where(VendorCall.call == "search")) == 0


def test_the_score_field_is_configurable_and_a_match_without_score_is_listed(fake_vendor):
    app = make_app(fake_vendor.url, SCORE_FIELD="score")
    fake_vendor.search.append(envelope(data={"total": 2, "faceReferences": [
        {"id": "7", "name": "No Score"}, {"id": "8", "name": "Scored", "score": 91.5}]}, pricing="PAY"))
    client = sign_in(app.test_client())
    answer = SearchPage(client).send(face("obama.jpg"), faceSetId="1")
    body = text(client.get(answer.headers["Location"]))
    assert re.findall(r'class="match-name"><strong>([^<]+)<', body) == ["Scored", "No Score"]
    assert "91.5" in body and "score not given" in body
    assert fake_vendor.calls("search")[0]["form"] == {"faceSetId": "1", "topK": "20", "threshold": "80.0"}


def test_face_set_defaults_apply_to_search(fake_vendor):
    app = make_app(fake_vendor.url)
    with app.app_context():
        db.session.get(FaceSet, "1").default_top_k = 5
        db.session.get(FaceSet, "1").default_threshold = 70.5
        db.session.commit()
    SearchPage(sign_in(app.test_client())).send(face("obama.jpg"), faceSetId="1")
    assert fake_vendor.calls("search")[0]["form"] == {"faceSetId": "1", "topK": "5", "threshold": "70.5"}


def test_vendor_errors_on_search_keep_the_form(fake_app, fake_vendor):
    fake_vendor.search.append(envelope("INSUFFICIENT_BALANCE", "Insufficient balance, please top up"))
    answer = SearchPage(sign_in(fake_app.test_client())).send(face("obama.jpg"), faceSetId="1", topK="7")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 502 and "INSUFFICIENT_BALANCE" in body and 'value="7"' in body
    assert EnrolPage.hidden(body, "keptPicture")


def test_the_duplicate_check_shows_the_earlier_enrolment_before_adding(app, client, sandbox, face_set):
    enrol(client, face_set, name="Already Here", externalReferenceId="first")
    page = EnrolPage(client)
    checked = page.send(face("obama2.jpg"), faceSetId=face_set, name="Maybe Again", checkDuplicates="y")
    body = text(checked)
    assert checked.status_code == 409 and "This person may be enrolled already" in body
    assert "Already Here" in body and "/thumbnail.jpg" in body and 'value="Enrol anyway"' in body
    assert sandbox.store.count_faces(face_set) == 1  # nothing added yet
    anyway = page.send(None, html=checked.get_data(as_text=True), faceSetId=face_set, name="Maybe Again",
                       checkDuplicates="y", duplicatesSeen="1")
    assert anyway.status_code == 303 and sandbox.store.count_faces(face_set) == 2


def test_the_duplicate_check_lets_a_new_person_straight_through(client, sandbox, face_set):
    enrol(client, face_set, name="Person A")
    answer = EnrolPage(client).send(face("biden.jpg"), faceSetId=face_set, checkDuplicates="y")
    assert answer.status_code == 303 and sandbox.store.count_faces(face_set) == 2


def test_the_register_lists_filters_and_exports_enrolments(app, client, face_set):
    enrol(client, face_set, name="Ana Lima", externalReferenceId="r-1", idNumber="99001122", country="BR")
    enrol(client, face_set, "biden.jpg", name="Bo Chen", externalReferenceId="r-2")
    viewer = sign_in(app.test_client(), "viewer")
    listed = text(viewer.get(f"/register/?face_set={face_set}"))
    assert "2 enrolments." in listed and "Ana Lima" in listed and "••••1122" in listed
    assert "1 enrolment." in text(viewer.get("/register/?name=lima"))
    assert "1 enrolment." in text(viewer.get("/register/?reference=r-2"))
    assert "0 enrolments." in text(viewer.get("/register/?since=2999-01-01"))
    assert viewer.get("/register/export.csv").status_code == 403  # exports are for operators and admins
    rows = read_csv(client.get(f"/register/export.csv?face_set={face_set}").get_data())
    assert [(r["name"], r["id_number_masked"], r["enrolled_by"]) for r in rows] == [
        ("Bo Chen", "", "otto"), ("Ana Lima", "••••1122", "otto")]
    with app.app_context():
        entry = db.session.scalar(db.select(Enrolment).filter_by(name="Ana Lima"))
        assert entry.thumbnail[:2] == b"\xff\xd8" and len(entry.thumbnail) < 20_000
    assert "Ana Lima" in text(viewer.get(f"/register/{entry.id}"))


def test_no_thumbnails_are_kept_when_turned_off(sandbox, face_set):
    app = make_app(sandbox.url, {"KEEP_THUMBNAILS": "0"})
    enrol(sign_in(app.test_client()), face_set, name="No Picture")
    with app.app_context():
        assert db.session.scalar(db.select(Enrolment).filter_by(name="No Picture")).thumbnail is None


def test_admins_keep_the_catalogue_and_sandbox_sets_follow(app, sandbox):
    admin = sign_in(app.test_client(), "admin")
    html = admin.get("/admin/face-sets").get_data(as_text=True)
    added = admin.post("/admin/face-sets", data={"csrf_token": EnrolPage.hidden(html, "csrf_token"),
                                                 "id": "branch-9", "label": "Branch Nine", "default_top_k": "3"})
    assert added.status_code == 303
    sets = {s["id"] for s in requests.get(sandbox.url + "/sandbox/face-sets", headers=OPERATOR, timeout=5).json()["faceSets"]}
    assert "branch-9" in sets  # sandbox mode: the set now exists upstream too
    assert "Branch Nine" in text(admin.get("/admin/face-sets"))
    assert '<option value="branch-9">Branch Nine (branch-9)</option>' in admin.get("/search/").get_data(as_text=True)
    # A set made with the sandbox's own commands joins the catalogue when a link names it, so the drop-down
    # shows it, chosen.
    sandbox.store.create_face_set("made-in-the-sandbox")
    html = admin.get("/search/?faceSetId=made-in-the-sandbox").get_data(as_text=True)
    assert '<option value="made-in-the-sandbox" selected>made-in-the-sandbox</option>' in html
    operator = sign_in(app.test_client(), "operator")
    assert operator.get("/admin/face-sets").status_code == 403
