"""A batch job's pictures, stored ZIP and full ID numbers are dropped after a time set per state (issue 12,
case 7), by a purge that runs once a day for the whole cluster and logs counts only."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from facesite.batch.runner import run_job
from facesite.batch.scheduler import batch_scheduler
from facesite.extensions import db
from facesite.models import BatchJob, BatchPicture, BatchRow, BatchUploadChunk, utcnow
from tests.support import face, make_app, sign_in
from tests.support.batch_files import make_manifest, make_zip
from tests.support.servers import envelope
from tests.test_batch import BatchPage
from tests.test_batch_limits import count, rows_of

KEEP = {"BATCH_KEEP_DAYS": 7, "BATCH_KEEP_UNSTARTED_DAYS": 2, "BATCH_KEEP_PAUSED_DAYS": 14,
        "BATCH_KEEP_STALLED_DAYS": 3}
ID_NUMBER = "3201999988887777"


@pytest.fixture
def queue_down_app(fake_vendor):
    """Jobs are handed to a queue nobody serves (its Redis is down), so each stays where the test puts
    it; the test runs them itself with the portal's own runner (and make_app starts no background sweeper,
    which would run the day's purge whenever its thread got there, before or after the test ages its jobs)."""
    return make_app(fake_vendor.url, {"REDIS_URL": "redis://127.0.0.1:1/0"}, BATCH_CONCURRENCY=1, **KEEP)


def job_in_state(app, batch, state: str, fake_vendor) -> int:
    rows = [{"faceImage": name, "idNumber": ID_NUMBER, "name": "Kept Person"} for name in ("a.jpg", "b.jpg")]
    answer = batch.upload(make_zip({"a.jpg": face("obama.jpg"), "b.jpg": face("biden.jpg")}), make_manifest(rows),
                          face_set="1")
    job_id = int(answer.headers["Location"].rsplit("/", 1)[1])
    if state == "checking":
        return job_id
    run_job(app, job_id)  # the background check
    if state != "review":
        batch.act(job_id, "start")
    if state == "finished":
        fake_vendor.add_face.extend([envelope(data="1"), envelope("PARAMETER_ERROR", "illegal parameters")])
        run_job(app, job_id)
    elif state == "paused":
        fake_vendor.add_face.append(envelope("INSUFFICIENT_BALANCE", "Insufficient balance"))
        run_job(app, job_id)
    assert batch.progress(job_id)["state"] == state
    return job_id


def age(app, job_id: int, days: float, *columns: str) -> None:
    with app.app_context():
        job = db.session.get(BatchJob, job_id)
        for column in columns:
            setattr(job, column, utcnow() - timedelta(days=days))
        db.session.commit()


def holds(app, job_id: int) -> tuple[int, int, int]:
    """(full ID numbers, pictures, stored ZIP chunks) the job still holds."""
    return (count(app, BatchRow, BatchRow.job_id == job_id, BatchRow.id_number.is_not(None)),
            count(app, BatchPicture, BatchPicture.job_id == job_id),
            count(app, BatchUploadChunk, BatchUploadChunk.job_id == job_id))


CLOCKS = {"checking": ("BATCH_KEEP_UNSTARTED_DAYS", ("created_at",)),
          "review": ("BATCH_KEEP_UNSTARTED_DAYS", ("created_at",)),
          "queued": ("BATCH_KEEP_STALLED_DAYS", ("created_at", "started_at")),
          "paused": ("BATCH_KEEP_PAUSED_DAYS", ("created_at", "started_at", "paused_at")),
          "finished": ("BATCH_KEEP_DAYS", ("created_at", "started_at", "finished_at"))}


def test_every_state_that_holds_personal_data_is_purged_after_its_own_time(queue_down_app, fake_vendor, caplog):
    """Before: paused, queued and checking jobs were never purged (full ID numbers and pictures kept for ever)."""
    app = queue_down_app
    batch = BatchPage(sign_in(app.test_client()))
    jobs = {state: job_in_state(app, batch, state, fake_vendor) for state in CLOCKS}
    assert holds(app, jobs["checking"]) == (2, 2, 1) and holds(app, jobs["paused"]) == (2, 2, 0)
    for state, (setting, columns) in CLOCKS.items():
        age(app, jobs[state], KEEP[setting] - 0.5, *columns)
    cli = app.test_cli_runner()
    assert "jobs finished 0, not started 0, paused 0, stalled 0" in cli.invoke(args=["purge"]).output
    assert all(holds(app, job_id) != (0, 0, 0) for job_id in jobs.values()), "nothing is dropped before its time"

    for state, (setting, columns) in CLOCKS.items():
        age(app, jobs[state], KEEP[setting] + 0.5, *columns)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="facesite.batch.retention"):
        output = cli.invoke(args=["purge"]).output
    assert "jobs finished 1, not started 2, paused 1, stalled 1" in output
    [line] = [record.getMessage() for record in caplog.records if "batch purge" in record.getMessage()]
    assert "jobs finished 1, not started 2, paused 1, stalled 1; full ID numbers and pictures dropped from" in line
    assert ID_NUMBER not in line and "Kept Person" not in line and "a.jpg" not in line
    assert all(holds(app, job_id) == (0, 0, 0) for job_id in jobs.values())

    # What staff see afterwards: each row that could still have been sent says why it no longer can.
    checked = rows_of(app, jobs["checking"])
    assert batch.progress(jobs["checking"])["state"] == "review"
    assert all(r.state == "skipped" and "(BATCH_KEEP_UNSTARTED_DAYS)" in r.message for r in checked.values())
    paused = rows_of(app, jobs["paused"])
    assert batch.progress(jobs["paused"])["state"] == "finished"
    assert all(r.code == "PURGED" and "(BATCH_KEEP_PAUSED_DAYS)" in r.message for r in paused.values())
    assert "(BATCH_KEEP_STALLED_DAYS)" in batch.client.get(f"/batch/{jobs['queued']}").get_data(as_text=True)
    # Two rows are prepared at once, so which of them met the vendor's SUCCESS first is not fixed.
    results = sorted(row["result"] for row in batch.results(jobs["finished"]))
    assert results == ["done", "failed"], "what was enrolled stays in the results"


def test_the_purge_runs_once_a_day_for_the_whole_cluster(queue_down_app, fake_vendor, caplog):
    app = queue_down_app
    batch = BatchPage(sign_in(app.test_client()))
    job_id = job_in_state(app, batch, "review", fake_vendor)
    age(app, job_id, 3, "created_at")
    with caplog.at_level(logging.INFO, logger="facesite.batch.retention"):
        batch_scheduler(app).sweep()
        assert holds(app, job_id) == (0, 0, 0)
        another = job_in_state(app, batch, "review", fake_vendor)
        age(app, another, 3, "created_at")
        from facesite import retention
        from facesite.batch.scheduler import BatchScheduler

        # another process's sweeper, the same day: the purge is not due
        BatchScheduler(app, daily_purge=retention.purge_if_due).sweep()
    assert holds(app, another) == (2, 2, 1)  # under review: the stored ZIP is kept for corrections
    assert len([r for r in caplog.records if "batch purge" in r.getMessage()]) == 1
    with app.app_context():
        from facesite import retention

        assert retention.purge_if_due(now=utcnow() + timedelta(days=1, minutes=1)) is not None
    assert holds(app, another) == (0, 0, 0)


def test_the_daily_purge_also_drops_old_kept_pictures_and_thumbnails(sandbox, face_set, caplog):
    """Every record that holds a picture has its time: kept form pictures (DRAFT_MAX_AGE_HOURS) and
    register thumbnails (THUMBNAIL_KEEP_DAYS) go with the same daily purge, which says so in the log."""
    from facesite import retention
    from facesite.models import Draft, Enrolment
    from tests.support import EnrolPage

    app = make_app(sandbox.url, DRAFT_MAX_AGE_HOURS=24, THUMBNAIL_KEEP_DAYS=30)
    client = sign_in(app.test_client(), "operator")
    assert EnrolPage(client).send(face("obama.jpg"), faceSetId=face_set, name="Old").status_code == 303
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Draft).where(Draft.data.is_not(None)))
        with caplog.at_level(logging.INFO, logger="facesite.retention"):
            kept = retention.purge(now=utcnow() + timedelta(hours=23))
            assert (kept["drafts"], kept["thumbnails"]) == (0, 0)
            gone = retention.purge(now=utcnow() + timedelta(days=31))
        assert gone["drafts"] >= 1 and gone["thumbnails"] == 1
        assert db.session.scalar(db.select(db.func.count()).select_from(Draft)) == 0
        assert db.session.scalar(db.select(Enrolment.thumbnail).where(Enrolment.name == "Old")) is None
    line = [r.getMessage() for r in caplog.records if r.getMessage().startswith("purge:")][-1]
    assert "register thumbnails 1" in line and "Old" not in line
