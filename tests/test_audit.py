"""Every vendor call is on record: who, what, outcome and cost, and nothing that must not be kept."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from facesite.extensions import db
from facesite.models import VendorCall
from tests.support import EnrolPage, face, sign_in
from tests.support.batch_files import read_csv
from tests.support.servers import envelope, reset_connection

DETAILS = {"faceSetId": "1", "externalReferenceId": "audit-ref-1", "idNumber": "3171999988887777", "name": "Ana"}


def records(app):
    with app.app_context():
        return db.session.scalars(db.select(VendorCall).order_by(VendorCall.id)).all()


def enrol(app, **overrides):
    return EnrolPage(sign_in(app.test_client())).send(face("obama.jpg"), **{**DETAILS, **overrides})


def test_one_record_per_call_on_success_with_who_what_and_cost(app, face_set):
    assert enrol(app, faceSetId=face_set).status_code == 303
    *tokens, add = records(app)  # the process may hold a token already (it is shared per host and key)
    assert [(t.call, t.outcome_code, t.username) for t in tokens] in ([], [("token", "SUCCESS", "otto")])
    assert (add.call, add.username, add.face_set_id, add.external_reference_id) == \
        ("add_face", "otto", face_set, "audit-ref-1")
    assert add.id_number_masked == "••••7777" and add.outcome_code == "SUCCESS"
    assert add.pricing_strategy == "FREE" and len(add.transaction_id) == 32 and add.http_status == 200
    assert add.finished_at >= add.started_at and add.latency_ms >= 0


@pytest.mark.parametrize("answer, code", [
    (envelope("PARAMETER_ERROR", "FaceSet not found, id: 1", transaction_id="t-42"), "PARAMETER_ERROR"),
    (lambda: (time.sleep(1.5), envelope())[1], "TRANSPORT_TIMEOUT"),
    (reset_connection, "TRANSPORT_CONNECTION"),
    (("<html>bad gateway</html>", 502, {}), "TRANSPORT_HTTP_STATUS"),
])
def test_one_record_per_call_on_failure(fake_app, fake_vendor, answer, code):
    fake_vendor.add_face.append(answer)
    enrol(fake_app)
    calls = [r for r in records(fake_app) if r.call == "add_face"]
    assert len(calls) == 1 == len(fake_vendor.calls("add_face"))
    assert calls[0].outcome_code == code and calls[0].finished_at is not None
    assert calls[0].id_number_masked == "••••7777"


def test_a_renewed_token_shows_as_the_calls_that_were_made(fake_app, fake_vendor):
    fake_vendor.add_face.append(envelope("IAM_FAILED", "Token not found or expired"))
    enrol(fake_app)
    assert [(r.call, r.outcome_code) for r in records(fake_app)] == [
        ("token", "SUCCESS"), ("add_face", "IAM_FAILED"), ("token", "SUCCESS"), ("add_face", "SUCCESS")]


def test_nothing_secret_is_kept(app, face_set, sandbox):
    enrol(app, faceSetId=face_set)
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).read_bytes()
    tokens = [row[0] for row in __import__("sqlite3").connect(sandbox.store.path).execute("SELECT token FROM tokens")]
    assert b"3171999988887777" not in database
    assert not any(token.encode() in database for token in tokens)
    assert face("obama.jpg")[1000:1100] not in database


def test_a_call_cut_off_by_a_dying_process_still_leaves_its_record(fake_vendor, tmp_path):
    fake_vendor.add_face.append(lambda: (time.sleep(30), envelope())[1])
    script = f"""
import os
from facesite.app import create_app
from facesite.config import Settings
from facesite.upstream import vendor
app = create_app(Settings.from_env(os.environ).overridden(ADVANCE_BASE_URL="{fake_vendor.url}", ADVANCE_READ_TIMEOUT=60))
with app.app_context():
    vendor().add_face("1", b"x", filename="f.jpg", mime_type="image/jpeg", details={{"idNumber": "12345678"}})
"""
    env = {**os.environ, "INSTANCE_PATH": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).parents[1], env=env)
    deadline = time.monotonic() + 30
    while not fake_vendor.calls("add_face") and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait()
    import sqlite3

    rows = sqlite3.connect(tmp_path / "facesite.sqlite3").execute(
        "SELECT call, finished_at, id_number_masked FROM vendor_calls ORDER BY id").fetchall()
    assert rows[-1] == ("add_face", None, "••••5678")


def test_the_audit_page_filters_pages_and_charts_cost(fake_app, fake_vendor):
    app = fake_app
    fake_vendor.add_face.append(envelope("PARAMETER_ERROR", "FaceSet not found, id: no-such-set"))
    enrol(app, faceSetId="no-such-set")
    enrol(app, faceSetId="branch-1")
    EnrolPage(sign_in(app.test_client(), "admin"))  # an admin's visit is no vendor call
    with app.app_context():  # one charged search, as issue 5's search page will make
        db.session.add(VendorCall(call="search", username="otto", outcome_code="SUCCESS", pricing_strategy="PAY"))
        db.session.commit()
    admin = sign_in(app.test_client(), "admin")
    page = admin.get("/admin/audit").get_data(as_text=True)
    assert "4 calls." in page and '<rect class="pay"' in page and '<rect class="free"' in page
    assert "1 charged" in page and "3 free" in page
    only_failures = admin.get("/admin/audit?outcome=failure").get_data(as_text=True)
    assert "1 call." in only_failures and "FaceSet not found" in only_failures
    assert "1 call." in admin.get("/admin/audit?face_set=branch-1").get_data(as_text=True)
    assert "0 calls." in admin.get("/admin/audit?user=vera").get_data(as_text=True)
    assert "0 calls." in admin.get("/admin/audit?since=2999-01-01").get_data(as_text=True)
    assert "4 calls." in admin.get("/admin/audit?until=2999-01-01").get_data(as_text=True)


def test_the_audit_page_has_pages(app):
    with app.app_context():
        db.session.add_all([VendorCall(call="search", username="otto", outcome_code="SUCCESS") for _ in range(120)])
        db.session.commit()
    admin = sign_in(app.test_client(), "admin")
    first = admin.get("/admin/audit").get_data(as_text=True)
    assert "Page 1 of 3" in first and first.count("<tr>") == 51
    assert "Page 3 of 3" in admin.get("/admin/audit?page=3").get_data(as_text=True)


def test_the_csv_export_round_trips(fake_app, fake_vendor):
    app = fake_app
    fake_vendor.add_face.append(envelope("PARAMETER_ERROR", "Failed to embed image: No face detected"))
    enrol(app)
    enrol(app, idNumber="")
    exported = sign_in(app.test_client(), "admin").get("/admin/audit.csv")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    rows = read_csv(exported.get_data())
    stored = {r.id: r for r in records(app)}
    assert len(rows) == len(stored) == 3
    for row in rows:
        record = stored[int(row["id"])]
        for column, value in row.items():
            original = getattr(record, column)
            assert value == ("" if original is None else str(original)), column
