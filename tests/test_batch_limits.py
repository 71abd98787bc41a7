"""A batch upload has a budget (issue 11, cases 1 and 3): every limit is checked from the ZIP's own records
before anything is stored, refusals name their setting, and each file is read, checked and stored once in the
background. Where staff saw something else before, the test says what."""
from __future__ import annotations

import html
import io
import struct
import zipfile
from pathlib import Path

import pytest

from facesite.batch.limits import UploadLimits, read_manifest
from facesite.extensions import db
from facesite.models import BatchJob, BatchPicture, BatchRow, BatchUploadChunk
from tests.support import face, make_app, sign_in
from tests.support.batch_files import make_manifest, make_zip
from tests.test_batch import BatchPage

MB = 1024 * 1024


@pytest.fixture
def batch(client):
    return BatchPage(client)


def database_bytes(app) -> int:
    """What the portal's SQLite database takes on disk: the file and its write-ahead log."""
    path = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model).where(*where))


def stored_bytes(app) -> int:
    """Bytes of pictures and stored uploads in the database."""
    with app.app_context():
        return sum(db.session.scalar(db.select(db.func.coalesce(db.func.sum(db.func.length(column)), 0)))
                   for column in (BatchPicture.data, BatchUploadChunk.data))


def picture_bytes(app) -> int:
    """Bytes of the pictures copied out of the stored uploads."""
    with app.app_context():
        return db.session.scalar(db.select(db.func.coalesce(db.func.sum(db.func.length(BatchPicture.data)), 0)))


def rows_of(app, job_id: int) -> dict[int, BatchRow]:
    with app.app_context():
        rows = db.session.scalars(db.select(BatchRow).where(BatchRow.job_id == job_id)).all()
        db.session.expunge_all()
    return {row.row_number: row for row in rows}


def refusal(answer) -> str:
    assert answer.status_code == 422, answer.status_code
    return html.unescape(answer.get_data(as_text=True))


def zeros_upload(rows: int = 40) -> tuple[bytes, bytes]:
    """Case 1: one 20 MB zero-filled p.jpg (a ZIP of about 20 KB) and a manifest whose rows all name it."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("p.jpg", bytes(20 * MB))
    return out.getvalue(), make_manifest([{"faceImage": "p.jpg", "name": f"Person {i}"} for i in range(rows)])


def test_a_tiny_zip_that_unpacks_to_gigabytes_is_refused_without_writing_it(sandbox, face_set, app, batch):
    """Before: 303 after 12 s, 1.7 GB written to the database (40 copies of the 20 MB file and their WAL)."""
    archive, manifest = zeros_upload()
    assert len(archive) < 100_000
    before = database_bytes(app)
    page = refusal(batch.upload(archive, manifest, face_set=face_set))
    assert "BATCH_MAX_COMPRESSION_RATIO" in page and "“p.jpg” would unpack from" in page
    assert "Nothing was sent or kept" in page
    assert f'value="{face_set}"' in page, "the face set chosen stays in the form"
    assert database_bytes(app) - before < len(archive) + MB
    assert count(app, BatchJob) == 0 and stored_bytes(app) == 0


def test_each_file_is_read_and_checked_once_however_many_rows_name_it(fake_vendor):
    """Past the ratio limit (set very high here), the 40 rows naming the zero-filled file still cost one
    read: it is refused once for all 40 rows, and nothing of it is kept."""
    app = make_app(fake_vendor.url, BATCH_MAX_COMPRESSION_RATIO=1_000_000)
    batch = BatchPage(sign_in(app.test_client()))
    archive, manifest = zeros_upload()
    before = database_bytes(app)
    job_id = batch.job_id(batch.upload(archive, manifest, face_set="1"))
    rows = rows_of(app, job_id)
    assert len(rows) == 40 and {row.state for row in rows.values()} == {"skipped"}
    assert len({row.message for row in rows.values()}) == 1
    assert picture_bytes(app) == 0 and count(app, BatchPicture) == 0
    assert stored_bytes(app) == len(archive), "the stored ZIP, kept for corrections until the job starts"
    assert database_bytes(app) - before < 2 * MB
    batch.act(job_id, "discard")
    assert stored_bytes(app) == 0


def test_forty_rows_naming_one_photo_store_it_once_until_the_last_is_enrolled(fake_vendor):
    app = make_app(fake_vendor.url, BATCH_CONCURRENCY=2)
    batch = BatchPage(sign_in(app.test_client()))
    photo = face("obama.jpg")
    rows = [{"faceImage": "staff.jpg", "externalReferenceId": f"SAME-{i}", "name": f"N{i}"} for i in range(40)]
    job_id = batch.job_id(batch.upload(make_zip({"staff.jpg": photo}), make_manifest(rows), face_set="1"))
    assert "40 rows ready to send" in batch.client.get(f"/batch/{job_id}").get_data(as_text=True)
    with app.app_context():
        sizes = db.session.scalars(db.select(BatchPicture.size).where(BatchPicture.job_id == job_id)).all()
    assert sizes == [len(photo)] and picture_bytes(app) == len(photo), "one copy"
    batch.act(job_id, "start")
    assert count(app, BatchUploadChunk) == 0, "started: the stored ZIP is gone"
    assert batch.wait(job_id)["done"] == 40 and len(fake_vendor.calls("add_face")) == 40
    assert count(app, BatchPicture) == 0, "enrolled rows no longer need the picture"


def end_record(entries: int, list_bytes: int, list_offset: int) -> bytes:
    return b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, entries, entries, list_bytes, list_offset, 0)


def test_a_zip_listing_more_files_than_the_limit_is_refused_before_they_are_listed(app, batch, face_set):
    """Before: the 200,000 entries were listed (2.5 s, one object each) before anything else was said."""
    members = io.BytesIO()
    with zipfile.ZipFile(members, "w", zipfile.ZIP_STORED) as archive:
        for i in range(200_000):
            archive.writestr(f"{i:06}.jpg", b"")
    page = refusal(batch.upload(members.getvalue(), None, face_set=face_set))
    assert "The ZIP holds 200,000 files, more than one batch upload may hold (10,000, BATCH_MAX_ZIP_MEMBERS)" in page
    assert f'value="{face_set}"' in page
    # Only the end record is read: a ZIP whose list of files is junk is refused for its count, not its junk.
    junk = b"x" * 4096 + end_record(60_000, 3_000_000, 0)
    assert "60,000 files" in refusal(batch.upload(junk, None, face_set=face_set))
    assert count(app, BatchJob) == 0


def test_the_member_limit_is_a_setting_and_the_list_is_counted_whatever_the_end_record_says(sandbox, face_set):
    app = make_app(sandbox.url, BATCH_MAX_ZIP_MEMBERS=100)
    batch = BatchPage(sign_in(app.test_client()))
    many = make_zip({f"{i}.jpg": b"" for i in range(300)})
    assert "holds 300 files, more than one batch upload may hold (100, BATCH_MAX_ZIP_MEMBERS)" in refusal(
        batch.upload(many, None, face_set=face_set))
    understated = bytearray(many)  # its end record says 1 file
    record = understated.rfind(b"PK\x05\x06")
    understated[record + 8:record + 12] = struct.pack("<2H", 1, 1)
    assert "holds more than 100 files" in refusal(batch.upload(bytes(understated), None, face_set=face_set))
    long_names = make_zip({f"{i:03}-" + "n" * 2000 + ".jpg": b"" for i in range(60)})  # 60 files, 120 KB of names
    assert "list of files takes 0.12 MB, more than 100 files may" in refusal(
        batch.upload(long_names, None, face_set=face_set))
    assert count(app, BatchJob) == 0


def test_a_manifest_over_its_limit_is_refused_wherever_it_comes_from(sandbox, face_set):
    """Before: a manifest beside the ZIP was read whole, up to the 1 GB upload allowance."""
    app = make_app(sandbox.url, BATCH_MAX_MANIFEST_MB=1)
    batch = BatchPage(sign_in(app.test_client()))
    archive = make_zip({"a.jpg": face("obama.jpg")})
    big = b"faceImage,name\n" + b"a.jpg,Someone\n" * (MB // 10)
    page = refusal(batch.upload(archive, big, face_set=face_set))
    assert "The manifest is larger than 1.00 MB, the most a batch manifest may be (BATCH_MAX_MANIFEST_MB)" in page
    inside = make_zip({"a.jpg": face("obama.jpg"), "manifest.csv": big})
    page = refusal(batch.upload(inside, None, face_set=face_set))
    assert "manifest.csv inside the ZIP is larger than 1.00 MB" in page
    assert count(app, BatchJob) == 0


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_a_manifest_is_never_read_beyond_its_limit():
    class Upload:
        filename = "manifest.csv"
        stream = CountingStream(b"faceImage\n" + b"a.jpg\n" * MB)

    limits = UploadLimits(rows=10, members=10, uncompressed_bytes=MB, compression_ratio=100, picture_bytes=MB,
                          manifest_bytes=1000, quota_bytes=MB)
    with pytest.raises(ValueError, match="BATCH_MAX_MANIFEST_MB"):
        read_manifest(Upload, limits)
    assert Upload.stream.bytes_read == 1001


def test_rows_beyond_the_limit_stop_the_reading(sandbox, face_set):
    app = make_app(sandbox.url, BATCH_MAX_ROWS=3)
    batch = BatchPage(sign_in(app.test_client()))
    manifest = make_manifest([{"faceImage": "a.jpg"}] * 4)
    page = refusal(batch.upload(make_zip({"a.jpg": face("obama.jpg")}), manifest, face_set=face_set))
    assert "more than 3 rows, the most one batch may hold (BATCH_MAX_ROWS)" in page


def test_the_files_rows_name_may_unpack_to_no_more_than_the_limit(sandbox, face_set):
    app = make_app(sandbox.url, BATCH_MAX_UNCOMPRESSED_MB=0.5)
    batch = BatchPage(sign_in(app.test_client()))
    archive = make_zip({"a.jpg": face("obama.jpg"), "b.jpg": face("biden.jpg")})  # 280 KB + 350 KB
    page = refusal(batch.upload(archive, None, face_set=face_set))
    assert "would unpack to 0.60 MB, more than one batch may hold (0.50 MB, BATCH_MAX_UNCOMPRESSED_MB)" in page
    assert batch.upload(make_zip({"a.jpg": face("obama.jpg")}), None, face_set=face_set).status_code == 303


def test_stored_photos_stop_at_the_jobs_quota(sandbox, face_set):
    app = make_app(sandbox.url, BATCH_MAX_STORED_MB=0.5)
    batch = BatchPage(sign_in(app.test_client()))
    photos = {"a.jpg": face("obama.jpg"), "b.jpg": face("biden.jpg"), "c.jpg": face("obama2.jpg")}
    job_id = batch.job_id(batch.upload(make_zip(photos), None, face_set=face_set))
    rows = rows_of(app, job_id)
    kept = [row for row in rows.values() if row.state == "pending"]
    over = [row for row in rows.values() if row.state == "skipped"]
    assert kept and over and len(kept) + len(over) == 3
    assert all("(BATCH_MAX_STORED_MB)" in row.message and row.picture_id is None for row in over)
    assert picture_bytes(app) == sum(len(photos[row.file_name]) for row in kept) <= 0.5 * MB


def with_declared_size(data: bytes, size: int) -> bytes:
    """The ZIP's one member, its unpacked size changed in both its headers."""
    data = bytearray(data)
    data[22:26] = struct.pack("<L", size)  # the local header at the start
    entry = data.rfind(b"PK\x01\x02")  # its entry in the list of files
    data[entry + 24:entry + 28] = struct.pack("<L", size)
    return bytes(data)


def test_photos_over_the_size_limit_are_skipped_and_reads_stop_there_whatever_the_header_says(sandbox, face_set):
    app = make_app(sandbox.url, BATCH_MAX_PICTURE_MB=0.3, BATCH_MAX_COMPRESSION_RATIO=1_000_000)
    batch = BatchPage(sign_in(app.test_client()))
    job_id = batch.job_id(batch.upload(make_zip({"big.jpg": face("biden.jpg"), "ok.jpg": face("obama2.jpg")}),
                                       None, face_set=face_set))
    rows = {row.file_name: row for row in rows_of(app, job_id).values()}
    assert rows["big.jpg"].state == "skipped" and "(0.30 MB, BATCH_MAX_PICTURE_MB)" in rows["big.jpg"].message
    assert rows["ok.jpg"].state == "pending"
    # A header that claims 1 KB for 5 MB of zeros: the read stops at the claimed size and the file is refused.
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("liar.jpg", bytes(5 * MB))
    job_id = batch.job_id(batch.upload(with_declared_size(out.getvalue(), 1000), None, face_set=face_set))
    [row] = rows_of(app, job_id).values()
    assert row.state == "skipped" and "the ZIP entry is damaged" in row.message
    assert count(app, BatchPicture, BatchPicture.job_id == job_id) == 0


def test_entries_named_the_windows_way_are_read_like_any_other(fake_app):
    """A ZIP made on Windows may name an entry ``C:\\photos\\face.jpg`` or ``\\face.jpg``: the row that names
    it finds it, and its background check reads it instead of failing the job."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("C:\\\\face.jpg", face("obama.jpg"))
        archive.writestr("\\\\second.jpg", face("obama2.jpg"))
    batch = BatchPage(sign_in(fake_app.test_client()))
    job_id = batch.job_id(batch.upload(out.getvalue(), None, face_set="1"))
    progress = batch.wait(job_id, states=("review",))
    assert (progress["rows"], progress["skipped"]) == (2, 0), progress
