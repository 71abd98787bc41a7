"""Batch enrolment end to end in one process: upload, check, run against a real upstream, results."""
from __future__ import annotations

import html
import io
import os
import signal
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest

from facesite.batch.scheduler import batch_scheduler
from facesite.extensions import db
from facesite.models import BatchJob, BatchRow, Enrolment, VendorCall, utcnow
from tests.support import EnrolPage, face, make_app, sign_in
from tests.support.batch_files import make_manifest, make_zip, mixed_batch, read_csv
from tests.support.servers import envelope, kill_process, procfile_command, start_process


class BatchPage:
    """Uploads a batch and drives its job the way a browser does (CSRF token and all)."""

    def __init__(self, client):
        self.client = client
        self.token = EnrolPage.hidden(client.get("/batch/new").get_data(as_text=True), "csrf_token")

    def upload(self, archive: bytes, manifest: bytes | None = None, face_set: str = "", name="people.zip"):
        data = {"csrf_token": self.token, "faceSetId": face_set, "archive": (io.BytesIO(archive), name)}
        if manifest is not None:
            data["manifest"] = (io.BytesIO(manifest), "manifest.csv")
        return self.client.post("/batch/new", data=data, content_type="multipart/form-data")

    def job_id(self, answer) -> int:
        """The job an upload made, once its pictures are checked (in the background)."""
        assert answer.status_code == 303, answer.get_data(as_text=True)
        job_id = int(answer.headers["Location"].rstrip("/").rsplit("/", 1)[1])
        self.wait(job_id, states=("review",), timeout=60)
        return job_id

    def act(self, job_id: int, action: str):
        return self.client.post(f"/batch/{job_id}/{action}", data={"csrf_token": self.token})

    def progress(self, job_id: int) -> dict:
        return self.client.get(f"/batch/{job_id}/progress").get_json()

    def wait(self, job_id: int, states=("finished",), timeout=120) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            progress = self.progress(job_id)
            if progress["state"] in states:
                return progress
            time.sleep(0.2)
        raise AssertionError(f"job {job_id} still {progress} after {timeout} s")

    def results(self, job_id: int) -> list[dict]:
        answer = self.client.get(f"/batch/{job_id}/results.csv")
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        return read_csv(answer.data)


@pytest.fixture
def batch(client):
    return BatchPage(client)


def faces_zip(count: int, prefix="p") -> tuple[bytes, list[dict]]:
    """``count`` small face pictures and manifest rows for them (face set left to the form)."""
    files = {f"{prefix}{i}.jpg": face("obama.jpg") for i in range(count)}
    rows = [{"faceImage": f"{prefix}{i}.jpg", "externalReferenceId": f"{prefix.upper()}-{i}", "name": f"N{i}"}
            for i in range(count)]
    return make_zip(files), rows


def test_fifty_mixed_pictures_give_row_by_row_results(sandbox, face_set, app, batch):
    archive, manifest, expected = mixed_batch(face_set, 50)
    job_id = batch.job_id(batch.upload(archive, manifest, face_set=face_set))
    review = batch.client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "40 rows ready to send, 10 with problems" in review
    assert "people/small-007.jpg" in review and "Image resolution should be 256 * 256" in review
    assert "people/broken-008.jpg" in review and "damaged or cut short" in review
    assert sandbox.store.count_faces(face_set) == 0, "nothing is sent before the job is started"

    assert batch.act(job_id, "start").status_code == 303
    final = batch.wait(job_id)
    results = batch.results(job_id)
    assert [int(r["row"]) for r in results] == list(range(2, 52))
    assert {int(r["row"]): r["result"] for r in results} == expected
    for row in results:
        assert row["externalReferenceId"] == f"REF-{int(row['row']) - 2:04}"
        assert row["idNumber"].startswith("••••") and len(row["idNumber"]) == 8  # never the full number
        if row["result"] == "done":
            assert row["faceId"] and row["transactionId"] and not row["message"]
            if row["faceImage"].endswith(".webp"):  # prepared like a form's picture, and the file says how
                assert "re-encoded WEBP" in row["preparation"], row
        elif row["result"] == "failed":
            assert row["message"] == "Failed to embed image: No face detected" and row["code"] == "PARAMETER_ERROR"
    done = sum(1 for r in results if r["result"] == "done")
    assert final["done"] == done == 35 and final["failed"] == 5 and final["skipped"] == 10 and final["percent"] == 100
    assert Counter(sandbox.store.external_references(face_set)) == Counter(
        r["externalReferenceId"] for r in results if r["result"] == "done")
    with app.app_context():
        register = db.session.scalars(db.select(Enrolment).where(Enrolment.face_set_id == face_set)).all()
        calls = db.session.scalars(db.select(VendorCall).where(VendorCall.call == "add_face",
                                                               VendorCall.face_set_id == face_set)).all()
        kept = db.session.scalar(db.select(db.func.count()).where(BatchRow.job_id == job_id,
                                                                  BatchRow.id_number.is_not(None)))
        thumbnails = [e.thumbnail for e in register]
    assert len(register) == 35 and {e.enrolled_by for e in register} == {"otto"} and all(thumbnails)
    assert len(calls) == 40 and {c.username for c in calls} == {"otto"}  # audited as the operator who started it
    assert kept == 5, "full ID numbers are dropped once a row is enrolled (kept only for rows to retry)"
    page = batch.client.get(f"/batch/{job_id}?rows=failed").get_data(as_text=True)
    # "No face detected" fails the same way when sent again: no retry is offered for it (issue 18)
    assert "No face detected" in page and "failed row" not in page


def test_manifest_problems_are_listed_by_row_and_column(sandbox, face_set, batch, app):
    archive = make_zip({"a.jpg": face("obama.jpg"), "b.jpg": face("biden.jpg"), "notes.txt": b"hello"})
    rows = [{"faceImage": "a.jpg", "externalReferenceId": "X-1", "country": "Narnia"},
            {"faceImage": "missing.jpg", "externalReferenceId": "X-2"},
            {"faceImage": "b.jpg", "externalReferenceId": "X-1", "faceSetId": "not-in-catalogue"},
            {"faceImage": "B.JPG", "externalReferenceId": "X-1", "name": "n" * 200},
            {"faceImage": "", "externalReferenceId": "X-5"}]
    job_id = batch.job_id(batch.upload(archive, make_manifest(rows), face_set=face_set))
    with app.app_context():
        found = {r.row_number: (r.state, r.message) for r in db.session.scalars(
            db.select(BatchRow).where(BatchRow.job_id == job_id))}
    assert found[2] == ("skipped", "country: 'Narnia' is not an ISO 3166-1 country: pick one from the list or "
                                   "type its two-letter code.")
    assert found[3] == ("skipped", "faceImage: there is no file “missing.jpg” in the ZIP")
    assert found[4][0] == "skipped" and found[4][1].startswith("faceSetId: FaceSet not found, id: not-in-catalogue.")
    assert found[5] == ("skipped", "name: longer than 128 characters\nexternalReferenceId: “X-1” is also on row 2")
    assert found[6] == ("skipped", "faceImage: empty: give the picture's file name inside the ZIP")
    page = batch.client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "0 rows ready to send, 5 with problems" in page and 'id="start"' not in page
    # The page names each column in its own words, not by the API's field name (docs/vocabulary.md).
    assert "Photo: there is no file “missing.jpg” in the ZIP" in page and "Country: &#39;Narnia&#39;" in page
    assert "Reference: “X-1” is also on row 2" in page
    assert "faceImage:" not in page and "externalReferenceId:" not in page
    # Nothing can be started; discarding leaves no trace.
    assert batch.act(job_id, "discard").status_code == 303
    assert batch.client.get(f"/batch/{job_id}").status_code == 404


@pytest.mark.parametrize("manifest, message", [
    (b"faceImage,Nickname\na.jpg,x\n", "unknown column “Nickname”"),
    (b"name,country\nx,ID\n", "the column faceImage (the picture's file name inside the ZIP) is missing"),
    (b"", "The manifest is empty"),
    ("faceImage,name\na.jpg,Jos\u00e9\n".encode("latin-1"), "The manifest is not UTF-8 text"),
    (b"faceImage,name\na.jpg,\"" + b"x" * 200_000 + b"\"\n", "The manifest could not be read as CSV"),
])
def test_a_manifest_that_cannot_be_read_is_refused_as_a_whole(face_set, batch, manifest, message):
    answer = batch.upload(make_zip({"a.jpg": face("obama.jpg")}), manifest, face_set=face_set)
    assert answer.status_code == 422
    page = html.unescape(answer.get_data(as_text=True))
    assert message in page and "Nothing was sent" in page


def test_not_a_zip_and_no_face_set_are_refused(face_set, batch):
    answer = batch.upload(b"PK not really", None, face_set=face_set, name="fake.zip")
    assert answer.status_code == 422 and "The archive is not a ZIP file" in answer.get_data(as_text=True)
    answer = batch.upload(make_zip({"a.jpg": face("obama.jpg")}), b"faceImage\na.jpg\n")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "Choose the face set to enrol into." in page
    assert "You chose people.zip, manifest.csv." in page  # named, to be chosen again
    answer = batch.upload(make_zip({"a.jpg": face("obama.jpg")}), None, face_set=face_set, name="photos.rar")
    assert answer.status_code == 422 and "Attach a .zip file" in answer.get_data(as_text=True)


def test_zip_alone_uses_file_names_and_a_manifest_inside_the_zip_is_found(sandbox, face_set, batch):
    archive = make_zip({"Maria Santos.jpg": face("obama.jpg"), "team/budi.png": face("32bit.png"),
                        "readme.txt": b"x", "__MACOSX/._Maria Santos.jpg": b"junk", ".DS_Store": b"junk"})
    job_id = batch.job_id(batch.upload(archive, None, face_set=face_set))
    batch.act(job_id, "start")
    assert batch.wait(job_id)["done"] == 2
    assert sorted(r["name"] for r in batch.results(job_id)) == ["Maria Santos", "budi"]

    # Excel in many countries: UTF-8 with a byte-order mark, ";" between cells, headers in other capitals.
    manifest = "\ufefffaceimage;Name;COUNTRY\nx.jpg;José Núñez;Spain\n".encode("utf-8")
    job_id = batch.job_id(batch.upload(make_zip({"x.jpg": face("biden.jpg"), "manifest.csv": manifest}),
                                       None, face_set=face_set))
    batch.act(job_id, "start")
    batch.wait(job_id)
    [row] = batch.results(job_id)
    assert (row["name"], row["country"], row["result"]) == ("José Núñez", "ES", "done")

    # Empty columns after the last one (spreadsheets save them); a value under no column is a problem.
    manifest = b"faceImage,name,,\nx.jpg,Ana,,\nx.jpg,Bo,,stray\n"
    job_id = batch.job_id(batch.upload(make_zip({"x.jpg": face("biden.jpg")}), manifest, face_set=face_set))
    with batch.client.application.app_context():
        found = {r.row_number: (r.state, r.name, r.message) for r in db.session.scalars(
            db.select(BatchRow).where(BatchRow.job_id == job_id))}
    assert found == {2: ("pending", "Ana", None),
                     3: ("skipped", "Bo", "—: this row has a value in a column without a name in the first row")}


def test_template_csv_is_a_manifest_the_portal_accepts(sandbox, face_set, batch):
    template = batch.client.get("/batch/template.csv")
    assert template.status_code == 200 and "attachment" in template.headers["Content-Disposition"]
    rows = read_csv(template.data)
    assert list(rows[0]) == ["faceSetId", "faceImage", "externalReferenceId", "idNumber", "idCardType", "country",
                             "name"]
    for row in rows:
        row["faceSetId"] = face_set
    archive = make_zip({"photos/maria-santos.jpg": face("obama.jpg"), "budi.png": face("32bit.png")})
    job_id = batch.job_id(batch.upload(archive, make_manifest(rows), face_set=face_set))
    batch.act(job_id, "start")
    assert batch.wait(job_id)["done"] == 2


def test_a_reference_already_in_the_register_is_not_sent_again(sandbox, face_set, batch):
    archive, rows = faces_zip(2)
    first = batch.job_id(batch.upload(archive, make_manifest(rows), face_set=face_set))
    batch.act(first, "start")
    batch.wait(first)
    again = batch.job_id(batch.upload(archive, make_manifest(rows), face_set=face_set))
    page = batch.client.get(f"/batch/{again}").get_data(as_text=True)
    assert "0 rows ready to send, 2 with problems" in page and "is already enrolled in this face set" in page
    assert sandbox.store.count_faces(face_set) == 2


def fake_batch_app(fake_vendor, **settings):
    return make_app(fake_vendor.url, **{"BATCH_CONCURRENCY": 2, "ADVANCE_READ_TIMEOUT": 1, **settings})


def test_calls_in_flight_never_exceed_batch_concurrency(fake_vendor):
    app = fake_batch_app(fake_vendor, BATCH_CONCURRENCY=3)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow_success():
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.15)
        with lock:
            in_flight[0] -= 1
        return envelope(data="7")

    fake_vendor.add_face.extend([slow_success] * 12)
    batch = BatchPage(sign_in(app.test_client()))
    archive, rows = faces_zip(12)
    job_id = batch.job_id(batch.upload(archive, make_manifest(rows), face_set="1"))
    batch.act(job_id, "start")
    assert batch.wait(job_id)["done"] == 12
    assert peak[0] == 3
    sent = [r["form"]["externalReferenceId"] for r in fake_vendor.calls("add_face")]
    assert sorted(sent) == sorted(f"P-{i}" for i in range(12))  # each row once, with its own reference


def test_service_busy_waits_for_retry_after_then_goes_on(fake_vendor):
    app = fake_batch_app(fake_vendor, BATCH_CONCURRENCY=1)
    busy_at = []
    fake_vendor.add_face.extend([envelope(data="1"),
                                 lambda: (busy_at.append(time.monotonic()) or envelope("SERVICE_BUSY", "busy"), 200,
                                          {"Retry-After": "2s"})])
    batch = BatchPage(sign_in(app.test_client()))
    archive, rows = faces_zip(3)
    job_id = batch.job_id(batch.upload(archive, make_manifest(rows), face_set="1"))
    batch.act(job_id, "start")
    waiting = batch.wait(job_id, states=("finished",), timeout=30)
    assert waiting["done"] == 3 and waiting["failed"] == 0
    calls = fake_vendor.calls("add_face")
    sent = Counter(call["form"]["externalReferenceId"] for call in calls)
    assert len(calls) == 4 and sent[calls[1]["form"]["externalReferenceId"]] == 2  # the refused row, again
    assert calls[2]["at"] - busy_at[0] >= 1.9, "the next call came before the vendor's Retry-After"


def test_an_account_problem_pauses_the_job_until_resumed(fake_vendor):
    app = fake_batch_app(fake_vendor, BATCH_CONCURRENCY=1)
    fake_vendor.add_face.append(envelope("INSUFFICIENT_BALANCE", "Insufficient balance"))
    batch = BatchPage(sign_in(app.test_client()))
    archive, rows = faces_zip(4)
    job_id = batch.job_id(batch.upload(archive, make_manifest(rows), face_set="1"))
    batch.act(job_id, "start")
    paused = batch.wait(job_id, states=("paused",))
    assert "run out of balance" in paused["note"] and paused["failed"] == 0 and paused["left"] == 4
    page = batch.client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert 'id="resume"' in page and "Insufficient balance" in page
    assert batch.act(job_id, "resume").status_code == 303
    assert batch.wait(job_id)["done"] == 4


def test_no_answer_marks_the_row_for_a_person_to_check(fake_vendor):
    app = fake_batch_app(fake_vendor, BATCH_CONCURRENCY=1)  # the fake app's read timeout is 1 s
    fake_vendor.add_face.append(lambda: time.sleep(1.5) or envelope(data="late"))
    batch = BatchPage(sign_in(app.test_client()))
    archive, rows = faces_zip(2)
    job_id = batch.job_id(batch.upload(archive, make_manifest(rows), face_set="1"))
    batch.act(job_id, "start")
    final = batch.wait(job_id)
    assert final["unknown"] == 1 and final["done"] == 1
    [unknown] = [r for r in batch.results(job_id) if r["result"] == "unknown"]
    assert "may have been added" in unknown["message"] and unknown["externalReferenceId"] in unknown["message"]
    page = batch.client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "Not in the face set: send again" in page
    # A person checked: it is not there. Send that row (and only it) again.
    with app.app_context():
        row_id = db.session.scalar(db.select(BatchRow.id).where(BatchRow.state == "unknown"))
    calls_before = len(fake_vendor.calls("add_face"))
    assert batch.act(job_id, f"rows/{row_id}/resend").status_code == 303
    assert batch.wait(job_id)["done"] == 2
    assert len(fake_vendor.calls("add_face")) == calls_before + 1


def test_retry_sends_only_the_failed_rows_a_retry_can_fix(fake_vendor):
    """Issue 18: "Retry failed rows" was offered for "No face detected", which fails the same way again. Now a
    row the vendor refused as it is (PARAMETER_ERROR) stays failed, and the button counts only the others."""
    app = fake_batch_app(fake_vendor, BATCH_CONCURRENCY=1)
    fake_vendor.add_face.extend([envelope(data="1"), envelope("ERROR", "internal error"),
                                 envelope("PARAMETER_ERROR", "Failed to embed image: No face detected"),
                                 envelope(data="4")])
    batch = BatchPage(sign_in(app.test_client()))
    archive, rows = faces_zip(4)
    job_id = batch.job_id(batch.upload(archive, make_manifest(rows), face_set="1"))
    batch.act(job_id, "start")
    finished = batch.wait(job_id)
    assert (finished["failed"], finished["retriable"]) == (2, 1)
    page = batch.client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert "Retry 1 failed row" in page and "Retry 2" not in page
    calls = fake_vendor.calls("add_face")
    retried_reference, refused_reference = (calls[i]["form"]["externalReferenceId"] for i in (1, 2))
    assert batch.act(job_id, "retry").status_code == 303
    final = batch.wait(job_id)
    assert (final["done"], final["failed"], final["retriable"]) == (3, 1, 0)
    calls = fake_vendor.calls("add_face")
    assert len(calls) == 5 and calls[4]["form"]["externalReferenceId"] == retried_reference
    assert refused_reference not in [call["form"]["externalReferenceId"] for call in calls[3:]]
    assert "Retry" not in batch.client.get(f"/batch/{job_id}").get_data(as_text=True)  # nothing left to retry


def test_pause_stops_new_calls_and_resume_finishes(fake_vendor):
    app = fake_batch_app(fake_vendor, BATCH_CONCURRENCY=2)
    fake_vendor.add_face.extend([lambda: time.sleep(0.3) or envelope(data="1")] * 10)
    batch = BatchPage(sign_in(app.test_client()))
    archive, rows = faces_zip(10)
    job_id = batch.job_id(batch.upload(archive, make_manifest(rows), face_set="1"))
    batch.act(job_id, "start")
    time.sleep(0.5)
    assert batch.act(job_id, "pause").status_code == 303
    time.sleep(1.0)  # rows already on their way finish
    calls = len(fake_vendor.calls("add_face"))
    time.sleep(1.0)
    paused = batch.progress(job_id)
    assert paused["state"] == "paused" and len(fake_vendor.calls("add_face")) == calls < 10
    assert paused["done"] == calls and paused["left"] == 10 - calls
    batch.act(job_id, "resume")
    assert batch.wait(job_id)["done"] == 10 and len(fake_vendor.calls("add_face")) == 10


def test_viewers_cannot_use_batches_and_results_never_hold_a_full_id_number(sandbox, face_set, app):
    viewer = sign_in(app.test_client(), "viewer")
    assert viewer.get("/batch/").status_code == 403 and viewer.get("/batch/template.csv").status_code == 403
    batch = BatchPage(sign_in(app.test_client()))
    archive = make_zip({"a.jpg": face("obama.jpg")})
    manifest = make_manifest([{"faceImage": "a.jpg", "idNumber": "3201999988887777", "name": "=HYPERLINK(\"x\")"}])
    job_id = batch.job_id(batch.upload(archive, manifest, face_set=face_set))
    batch.act(job_id, "start")
    batch.wait(job_id)
    csv_text = batch.client.get(f"/batch/{job_id}/results.csv").get_data(as_text=True)
    assert "3201999988887777" not in csv_text and "••••7777" in csv_text
    [row] = read_csv(csv_text.encode())
    assert row["name"] == "'=HYPERLINK(\"x\")"  # a spreadsheet shows it as text instead of running it
    jobs_page = batch.client.get("/batch/").get_data(as_text=True)
    assert f"#{job_id}" in jobs_page and "people.zip" in jobs_page


def test_pictures_and_id_numbers_of_old_batches_are_dropped(fake_vendor):
    app = fake_batch_app(fake_vendor, BATCH_CONCURRENCY=1, BATCH_KEEP_DAYS=7)
    fake_vendor.add_face.extend([envelope(data="1"), envelope("PARAMETER_ERROR", "illegal parameters")])
    batch = BatchPage(sign_in(app.test_client()))
    archive = make_zip({"a.jpg": face("obama.jpg"), "b.jpg": face("biden.jpg")})
    manifest = make_manifest([{"faceImage": name, "idNumber": "1234567890"} for name in ("a.jpg", "b.jpg")])
    job_id = batch.job_id(batch.upload(archive, manifest, face_set="1"))
    batch.act(job_id, "start")
    batch.wait(job_id)

    def kept():
        with app.app_context():
            return db.session.execute(db.select(db.func.count(BatchRow.picture_id), db.func.count(BatchRow.id_number))
                                      .where(BatchRow.job_id == job_id)).one()

    batch_scheduler(app).sweep()
    assert tuple(kept()) == (1, 1)  # the failed row, for a retry
    with app.app_context():
        db.session.get(BatchJob, job_id).finished_at = utcnow() - timedelta(days=8)
        db.session.commit()
    assert "finished 1" in app.test_cli_runner().invoke(args=["purge"]).output  # the sweep's purge ran today
    assert tuple(kept()) == (0, 0)
    refused = batch.act(job_id, "retry")
    assert "no longer kept" in batch.client.get(refused.headers["Location"]).get_data(as_text=True)


def test_a_job_no_worker_takes_up_says_so(sandbox, face_set, redis_url):
    """REDIS_URL set but no worker process running: the job page says what is missing."""
    app = make_app(sandbox.url, {"REDIS_URL": redis_url}, BATCH_QUEUE=f"nobody-listens-{face_set}")
    batch = BatchPage(sign_in(app.test_client()))
    answer = batch.upload(make_zip({"a.jpg": face("obama.jpg")}), None, face_set=face_set)
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    assert batch.progress(job_id)["state"] == "checking" and batch.progress(job_id)["note"] is None
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        job.queued_at = job.created_at = utcnow() - timedelta(seconds=60)
        db.session.commit()
    assert "need the Procfile's worker process running" in batch.progress(job_id)["note"]
    assert "need the Procfile&#39;s worker process running" in batch.client.get(f"/batch/{job_id}").get_data(
        as_text=True)


def test_staff_can_still_sign_in_and_upload_when_redis_is_down(sandbox, face_set):
    """Rate-limit counters and the queue live in Redis; an outage must not lock staff out."""
    app = make_app(sandbox.url, {"REDIS_URL": "redis://127.0.0.1:1/0"})  # nothing listens there
    batch = BatchPage(sign_in(app.test_client()))
    answer = batch.upload(make_zip({"a.jpg": face("obama.jpg")}), None, face_set=face_set)
    assert answer.status_code == 303
    assert batch.progress(int(answer.headers["Location"].rsplit("/", 1)[1]))["state"] == "checking"


def test_the_procfile_worker_without_redis_waits_quietly():
    """Local Procfile runners (honcho, foreman) stop every process when one exits: without REDIS_URL the
    worker line must keep running, saying why it has nothing to do, and stop cleanly on SIGTERM."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    worker = start_process(procfile_command("worker"), env)
    said = "REDIS_URL is not set: batch jobs run inside the web processes"
    deadline = time.monotonic() + 30  # its imports take a second or two, more on a busy machine
    while said not in "".join(worker.log_lines) and worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1)  # and it is still there a moment after saying so
    assert worker.poll() is None, "".join(worker.log_lines)
    kill_process(worker, signal.SIGTERM)
    assert said in "".join(worker.log_lines)
