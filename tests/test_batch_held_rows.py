"""Batch rows the portal holds for a person instead of enrolling them silently: a picture of several
people, and (with the upload's duplicate check) a face already in the face set. Run against the
sandbox over real HTTP; the reasons must reach the job page and the results CSV."""
from __future__ import annotations

import html
import io

from facesite.extensions import db
from facesite.models import BatchRow, VendorCall
from tests.support import EnrolPage, face
from tests.support.batch_files import make_manifest, make_zip
from tests.support.pictures import side_by_side
from tests.test_batch import BatchPage


def upload(batch: BatchPage, face_set: str, files: dict, rows: list[dict], check_duplicates: bool):
    fields = {"csrf_token": batch.token, "faceSetId": face_set, "archive": (io.BytesIO(make_zip(files)), "people.zip"),
              "manifest": (io.BytesIO(make_manifest(rows)), "manifest.csv")}
    if check_duplicates:
        fields["checkDuplicates"] = "y"
    answer = batch.client.post("/batch/new", data=fields, content_type="multipart/form-data")
    return batch.job_id(answer)


def test_a_group_photo_and_a_known_face_are_held_with_their_reasons(sandbox, face_set, app, client):
    enrol = EnrolPage(client)
    first = enrol.send(face("obama.jpg"), faceSetId=face_set, name="Barack Obama", externalReferenceId="EMP-1")
    assert first.status_code == 303, first.get_data(as_text=True)
    batch = BatchPage(client)
    assert 'id="checkDuplicates"' in client.get("/batch/new").get_data(as_text=True)
    files = {"group.jpg": side_by_side(face("obama.jpg"), face("biden.jpg")), "again.jpg": face("obama2.jpg"),
             "new.jpg": face("biden.jpg")}
    rows = [{"faceImage": "group.jpg", "name": "Two People", "externalReferenceId": "G-1"},
            {"faceImage": "again.jpg", "name": "Obama Again", "externalReferenceId": "G-2"},
            {"faceImage": "new.jpg", "name": "Joe Biden", "externalReferenceId": "G-3"}]
    job_id = upload(batch, face_set, files, rows, check_duplicates=True)
    assert batch.act(job_id, "start").status_code == 303
    progress = batch.wait(job_id)
    assert (progress["done"], progress["unknown"]) == (1, 2), progress

    results = {row["name"]: row for row in batch.results(job_id)}
    assert results["Joe Biden"]["result"] == "done"
    group = results["Two People"]
    assert (group["result"], group["code"], group["faceId"]) == ("unknown", "SEVERAL_FACES", "")
    assert group["message"].startswith("2 faces in the picture.")
    again = results["Obama Again"]
    assert (again["result"], again["code"]) == ("unknown", "POSSIBLE_DUPLICATE")
    assert "looks like Barack Obama, already in this face set" in again["message"]
    assert sandbox.store.count_faces(face_set) == 2  # Obama once (by the form), Biden by the batch

    page = html.unescape(client.get(f"/batch/{job_id}?rows=unknown").get_data(as_text=True))
    assert "2 faces in the picture." in page and "Checked: enrol anyway" in page
    with app.app_context():
        held = db.session.scalar(db.select(BatchRow).where(BatchRow.job_id == job_id, BatchRow.name == "Obama Again"))
        assert held.match_register_id is not None
        row_id = held.id
    assert f'/register/{held.match_register_id}"' in page  # the match is linked

    # A person looked at it and chose to enrol it: sent again, it is not held a second time.
    assert client.post(f"/batch/{job_id}/rows/{row_id}/resend", data={"csrf_token": batch.token}).status_code == 303
    batch.wait(job_id)
    results = {row["name"]: row for row in batch.results(job_id)}
    assert results["Obama Again"]["result"] == "done"
    assert sandbox.store.count_faces(face_set) == 3


def test_without_the_duplicate_check_a_batch_makes_no_search_but_still_holds_a_group_photo(sandbox, face_set, app,
                                                                                            client):
    batch = BatchPage(client)
    files = {"a.jpg": face("obama.jpg"), "b.jpg": face("obama2.jpg"), "g.jpg": face("obama_and_biden.jpg")}
    rows = [{"faceImage": name, "name": name[0].upper()} for name in files]
    job_id = upload(batch, face_set, files, rows, check_duplicates=False)
    assert batch.act(job_id, "start").status_code == 303
    progress = batch.wait(job_id)
    assert (progress["done"], progress["unknown"]) == (2, 1)
    assert {r["name"]: r["message"] for r in batch.results(job_id)}["G"].startswith("3 faces in the picture.")
    with app.app_context():
        calls = [c.call for c in db.session.scalars(db.select(VendorCall).where(VendorCall.face_set_id == face_set))]
    assert "search" not in calls and calls.count("add_face") == 2
