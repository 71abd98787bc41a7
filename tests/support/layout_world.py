"""A portal full of what staff really type, for the layout check and the README's screenshots: names of
50 characters with accents, references of 40, Thai and Vietnamese text, long face-set ids and user names,
many register and audit rows, and batch jobs in every state. Written straight into the database (what the
pages show is read from there), except the results of forms, which are sent through the portal."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

from PIL import Image

from facesite.extensions import db
from facesite.models import BatchJob, BatchRow, Enrolment, FaceSet, SecurityEvent, User, VendorCall, utcnow
from facesite.pictures.thumbnails import thumbnail
from tests.support import EnrolPage, face, make_app, password_hash, sign_in
from tests.support.servers import FakeVendor, envelope

NAME = "Nguyễn Thị Phương Thảo Đặng-Schröder de Ağaoğluová"  # 50 characters
REFERENCE = "KTP-3171-JAKSEL-2026-11-27-000000012345"  # 40 characters
THAI = "นางสาวสมศรี ใจดีมีสุขเจริญพรวัฒนาสกุล"
VIETNAMESE = "Trần Thị Bích Ngọc, chi nhánh Thành phố Hồ Chí Minh"
FACE_SET = "branch-jakarta-selatan-kebayoran-baru-enrolment-2026-q4-batch-07"  # 64: the longest allowed
FACE_SET_LABEL = "Kantor Cabang Jakarta Selatan — Kebayoran Baru, pendaftaran 2026"
LONG_USER = "nguyen.thi.phuong.thao.dang-schroder@cabang-jakarta-selatan.example"
NAMES = [NAME, THAI, VIETNAMESE, "Ana Lima", "Siti Nurhaliza binti Abdul Rahman", ""]
ROWS = 60  # more than a page of the register (50)


def long_note(kind: str) -> str:
    return (f"{kind}: the picture of {NAME} ({REFERENCE}) was refused by the vendor; "
            f"{VIETNAMESE}; {THAI}.")


def _person(i: int) -> dict:
    return {"name": NAMES[i % len(NAMES)] or None, "external_reference_id": f"{REFERENCE[:-3]}{i:03d}",
            "country": ("ID", "TH", "VN", None)[i % 4], "id_card_type": ("KTP", "บัตรประจำตัวประชาชน", "CCCD")[i % 3],
            "id_number_masked": "••••" + f"{i:04d}"}


def _batch_job(name: str, state: str, rows: list[dict], note: str | None = None) -> BatchJob:
    job = BatchJob(created_by="ada", started_by=LONG_USER if state != "review" else None, state=state, note=note,
                   archive_name=name, started_at=utcnow() if state != "review" else None)
    db.session.add(job)
    db.session.flush()
    for number, row in enumerate(rows, start=2):
        db.session.add(BatchRow(job_id=job.id, row_number=number, file_name=f"photos/{row.get('file', number)}.jpg",
                                face_set_id=FACE_SET, **{k: v for k, v in row.items() if k != "file"}))
    return job


def _rows(states: list[str]) -> list[dict]:
    rows = []
    for i, state in enumerate(states):
        person = {k: v for k, v in _person(i).items() if k in ("name", "external_reference_id", "country")}
        outcome = {"done": {"face_id": str(1000 + i), "transaction_id": f"txn-{i:032d}"},
                   "failed": {"code": "PARAMETER_ERROR", "message": long_note("Refused"), "transaction_id": f"txn-{i}"},
                   "skipped": {"code": "PICTURE", "message": "File should be an image file\n" + long_note("Skipped")},
                   "unknown": {"code": "TIMEOUT", "message": "No answer from the vendor within 30 s."}}.get(state, {})
        rows.append({"file": f"{(person['name'] or 'unnamed')[:30]}-{i}", "state": state, **person, **outcome})
    return rows


@dataclass
class LayoutWorld:
    """The portal, its fake vendor, and the addresses of pages that need something made first."""

    app: object
    vendor: FakeVendor
    urls: dict = field(default_factory=dict)


def build(instance_path: str) -> LayoutWorld:
    vendor = FakeVendor()
    app = make_app(vendor.url, {"INSTANCE_PATH": instance_path}, ADVANCE_READ_TIMEOUT=1)
    world = LayoutWorld(app, vendor)
    small = thumbnail(face("obama.jpg"))
    with app.app_context():
        db.session.add(FaceSet(id=FACE_SET, label=FACE_SET_LABEL, default_top_k=5,
                               description=f"{VIETNAMESE}. {THAI}. Staff of the branch at {NAME}'s office."))
        db.session.add_all([User(username=f"{LONG_USER[:40]}{i}@example", role=("viewer", "operator")[i % 2],
                                 password_hash=password_hash()) for i in range(4)]
                           + [User(username=LONG_USER, role="operator", password_hash=None, source="header")])
        now = utcnow()
        for i in range(ROWS):
            person = _person(i)
            db.session.add(Enrolment(face_id=str(1000 + i), face_set_id=FACE_SET, enrolled_by=LONG_USER,
                                     enrolled_at=now - timedelta(minutes=i), transaction_id=f"{i:040d}",
                                     thumbnail=small if i % 7 else None, **person))  # some purged
            db.session.add(VendorCall(username=LONG_USER, call=("add_face", "search", "token")[i % 3],
                                      face_set_id=FACE_SET, external_reference_id=person["external_reference_id"],
                                      id_number_masked=person["id_number_masked"], started_at=now - timedelta(minutes=i),
                                      finished_at=now - timedelta(minutes=i) + timedelta(seconds=1),
                                      outcome_code=("SUCCESS", "PARAMETER_ERROR")[i % 2],
                                      outcome_message=long_note("Failure") if i % 2 else "OK",
                                      transaction_id=f"{i:040d}", pricing_strategy=("FREE", "PAY")[i % 2],
                                      latency_ms=100 + i))
            db.session.add(SecurityEvent(event=("sign_in", "user_changed", "export")[i % 3], actor=LONG_USER,
                                         subject=person["name"] or FACE_SET, address="2001:db8:85a3::8a2e:370:7334",
                                         detail=long_note("Detail") if i % 2 else None))
        archive = f"{NAME} — {VIETNAMESE}.zip"
        jobs = {"uploaded": _batch_job(archive, "checking", _rows(["unchecked"] * 6 + ["pending"] * 4)),
                "review": _batch_job(archive, "review", _rows(["pending"] * 8 + ["skipped"] * 4)),
                "running": _batch_job(archive, "running", _rows(["done"] * 5 + ["failed", "sending"] + ["pending"] * 5)),
                "paused": _batch_job(archive, "paused", _rows(["done"] * 3 + ["failed"] + ["pending"] * 6),
                                     note=long_note("Paused: INSUFFICIENT_BALANCE")),
                "finished": _batch_job(archive, "finished", _rows(["done"] * 8 + ["failed", "unknown", "skipped"]))}
        db.session.commit()
        world.urls.update({f"batch {state}": f"/batch/{job.id}" for state, job in jobs.items()})
        world.urls["register entry"] = f"/register/{db.session.scalar(db.select(Enrolment.id).limit(1))}"
        world.urls["user page"] = f"/admin/users/{db.session.scalar(db.select(User.id).filter_by(username=LONG_USER))}"
    world.urls.update(_form_results(world))
    return world


def matches() -> dict:
    """A search answer: three people with the longest details."""
    return envelope(data={"total": 3, "faceReferences": [
        {"id": str(1000 + i), "similarity": 97.5 - 9 * i, "name": name, "country": country, "idCardType": THAI,
         "idNumber": "3171000011112222", "externalReferenceId": REFERENCE, "createdAt": "2026-11-27T10:11:12"}
        for i, (name, country) in enumerate([(NAME, "VN"), (THAI, "TH"), (VIETNAMESE, "VN")])]}, pricing="PAY")


def big_png() -> bytes:
    """A face as a PNG too large to send as it is: the portal scales and re-encodes it, and says so."""
    image = Image.open(io.BytesIO(face("obama.jpg"))).convert("RGB")
    out = io.BytesIO()
    image.resize((image.width * 4, image.height * 4)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def _form_results(world: LayoutWorld) -> dict:
    """Result pages, made by sending the forms as ada (the browser tabs sign in as ada too)."""
    from tests.test_search import SearchPage

    client = sign_in(world.app.test_client(), "admin")
    enrolled = EnrolPage(client).send(big_png(), "phone photo.png", faceSetId=FACE_SET, name=NAME,
                                      externalReferenceId=REFERENCE, idNumber="3171000011112222",
                                      idCardType=THAI, country="VN")
    world.vendor.search.append(matches())
    found = SearchPage(client).send(face("obama2.jpg"), faceSetId=FACE_SET)
    nobody = SearchPage(client).send(face("biden.jpg"), faceSetId=FACE_SET, threshold="95")
    for answer in (enrolled, found, nobody):
        assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    return {"enrol result": enrolled.headers["Location"], "search results": found.headers["Location"],
            "search none": nobody.headers["Location"]}
