"""Issue 24, finding 16: each batch job not started keeps its ZIP in the database (up to
BATCH_KEEP_UNSTARTED_DAYS), and one operator could pile up upload after upload. BATCH_QUOTA_MB bounds
what one person's waiting uploads keep together; an upload past it is refused before anything is stored,
on the upload page, like the other upload limits. Before: every upload was stored (303, a new job)."""
from __future__ import annotations

import html
import re

from facesite.extensions import db
from facesite.models import BatchJob, BatchUploadChunk
from tests.support import face, make_app, sign_in
from tests.support.batch_files import make_zip
from tests.test_batch import BatchPage


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def face_set_chosen(page: str, face_set: str) -> bool:
    option = re.search(rf'<option[^>]*value="{re.escape(face_set)}"[^>]*>', page)
    return option is not None and "selected" in option.group(0)


def test_an_operators_waiting_uploads_stop_at_the_quota_until_one_is_started_or_discarded(sandbox, face_set):
    app = make_app(sandbox.url, BATCH_QUOTA_MB=1)
    batch = BatchPage(sign_in(app.test_client(), "operator"))
    archive = make_zip({"a.jpg": face("obama.jpg"), "b.jpg": face("biden.jpg")})  # about 0.6 MB
    waiting = batch.job_id(batch.upload(archive, None, face_set=face_set))
    chunks = count(app, BatchUploadChunk)

    answer = batch.upload(archive, None, face_set=face_set, name="more-people.zip")
    assert answer.status_code == 422
    page = html.unescape(answer.get_data(as_text=True))
    assert "This upload cannot be used" in page
    assert "more than 1.00 MB, the most one person's waiting uploads may (BATCH_QUOTA_MB)" in page
    assert "Start or discard a waiting job" in page
    assert "more-people.zip" in page  # named, to choose it again
    assert face_set_chosen(page, face_set)
    assert count(app, BatchJob) == 1 and count(app, BatchUploadChunk) == chunks  # nothing stored

    # The quota is each person's: an administrator's upload is not counted against the operator's.
    other = BatchPage(sign_in(app.test_client(), "admin"))
    assert other.upload(archive, None, face_set=face_set).status_code == 303

    assert batch.act(waiting, "discard").status_code == 303
    assert batch.upload(archive, None, face_set=face_set, name="more-people.zip").status_code == 303
