"""Corrections of a batch under review (issue 18, item 4) through the portal's own forms: what is kept
for them until the job starts, and what is refused."""
from __future__ import annotations

from facesite.extensions import db
from facesite.models import BatchRow, BatchUploadChunk
from tests.support import face
from tests.support.batch_files import make_zip
from tests.test_batch import BatchPage


def rows(app, job_id: int) -> dict[int, BatchRow]:
    with app.app_context():
        return {row.row_number: row for row in db.session.scalars(db.select(BatchRow).where(BatchRow.job_id == job_id))}


def fix(batch: BatchPage, job_id: int, row: BatchRow, **cells):
    return batch.client.post(f"/batch/{job_id}/rows/{row.id}/fix", data={"csrf_token": batch.token, **cells},
                             follow_redirects=True)


def test_a_stray_cell_is_cleared_in_place_and_nothing_is_kept_once_started(app, face_set):
    from tests.support import sign_in

    batch = BatchPage(sign_in(app.test_client()))
    manifest = b"faceImage,name,,\nx.jpg,Ana,,\nx.jpg,Bo,,stray\n"
    job_id = batch.job_id(batch.upload(make_zip({"x.jpg": face("biden.jpg")}), manifest, face_set=face_set))
    found = rows(app, job_id)
    assert found[3].state == "skipped"
    page = batch.client.get(f"/batch/{job_id}").get_data(as_text=True)
    assert 'name="unnamed" value="stray"' in page and "a column without a name" in page

    refused = fix(batch, job_id, found[3], unnamed="x" * 300)  # hostile: more than any cell may hold
    assert refused.status_code == 200 and "A cell may hold at most 255 characters." in refused.get_data(as_text=True)
    fixed = fix(batch, job_id, found[3], unnamed="").get_data(as_text=True)
    assert "Row 3 is ready to send now." in fixed and "Checked: 2 rows ready to send" in fixed
    assert rows(app, job_id)[3].name == "Bo"

    batch.act(job_id, "start")
    batch.wait(job_id)
    after = rows(app, job_id)
    assert all(row.cells is None for row in after.values())
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(BatchUploadChunk)) == 0
    late = fix(batch, job_id, after[3], name="Late").get_data(as_text=True)
    assert "This upload can no longer be corrected" in late
