"""The background check of a new batch job: each picture its rows name is read from the stored ZIP,
decoded and checked, and copied once, however many rows name it.

Reads stop at BATCH_MAX_PICTURE_MB whatever the ZIP's header claims, and the copies of one job
may take BATCH_MAX_STORED_MB in all: rows whose picture would go past it are skipped, saying so.
Once every picture is checked the job waits for review (the stored ZIP is deleted when it starts). A runner
that dies half-way leaves the unchecked pictures (``data`` still empty) to whoever takes over.
"""
from __future__ import annotations

import os
import threading
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from facesite.batch import archive, lifecycle
from facesite.batch.language import speaking_to
from facesite.batch.limits import MB, ManifestError, read_member, size_text
from facesite.config import settings
from facesite.extensions import db
from facesite.models import BatchJob, BatchPicture
from facesite.pictures.sending import picture_problem

PICTURES_PER_ROUND = 100


def archive_gone() -> str:
    return _("the uploaded ZIP is no longer kept (the upload was discarded or is too old): upload it again")


class StoredQuota:
    """The bytes of pictures one job may keep (BATCH_MAX_STORED_MB), shared by the checking threads."""

    def __init__(self, limit: int, used: int):
        self.limit, self.used = limit, used
        self.lock = threading.Lock()

    def take(self, size: int) -> bool:
        with self.lock:
            if self.used + size > self.limit:
                return False
            self.used += size
            return True


def check_pictures(app: Flask, job_id: int, stopping: Callable[[], bool]) -> None:
    """Check every picture of a job being checked, on as many threads as there are CPUs (Pillow
    decodes without holding the GIL), then let the job be reviewed. Returns early, leaving the rest
    for later, when ``stopping()`` says so."""
    picture_limit = int(settings(app).batch_max_picture_mb * MB)
    used = db.session.scalar(select(func.coalesce(func.sum(BatchPicture.size), 0)).where(BatchPicture.job_id == job_id))
    quota = StoredQuota(int(settings(app).batch_max_stored_mb * MB), used)
    zip_file = _open(job_id)
    uploader = db.session.scalar(select(BatchJob.created_by).where(BatchJob.id == job_id))

    def check(picture: tuple[int, str]) -> None:
        with app.app_context(), speaking_to(uploader):
            _check_one(zip_file, picture[0], picture[1], picture_limit, quota)

    with ThreadPoolExecutor(os.cpu_count() or 2, thread_name_prefix=f"batch-check-{job_id}") as pool:
        while True:
            if stopping():
                return
            pictures = db.session.execute(select(BatchPicture.id, BatchPicture.member).where(
                BatchPicture.job_id == job_id, BatchPicture.data.is_(None))
                .order_by(BatchPicture.id).limit(PICTURES_PER_ROUND)).all()
            db.session.commit()  # end the read: the checking threads write
            if not pictures:
                break
            list(pool.map(check, pictures))
    _ready_for_review(job_id)


def _open(job_id: int) -> zipfile.ZipFile | None:
    size = db.session.scalar(select(BatchJob.archive_size).where(BatchJob.id == job_id))
    db.session.commit()
    try:
        return archive.open_stored(db.engine, job_id, size or 0)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):  # deleted meanwhile (discarded, purged)
        return None


def _check_one(zip_file: zipfile.ZipFile | None, picture_id: int, member: str, limit: int,
               quota: StoredQuota) -> None:
    data, problem = None, archive_gone() if zip_file is None else None
    if problem is None:
        try:
            data = read_member(zip_file, member, limit, "BATCH_MAX_PICTURE_MB")
        except ManifestError as error:
            problem = f"{member} {error}"
    problem = problem or picture_problem(data)
    if problem is None and not quota.take(len(data)):
        problem = _("not kept: this batch's photos would take more than %(size)s (BATCH_MAX_STORED_MB). Upload the "
                    "rows left in another batch.", size=size_text(quota.limit))
    with db.engine.begin() as connection:
        if problem is None:
            connection.execute(update(BatchPicture).where(BatchPicture.id == picture_id)
                               .values(data=data, size=len(data)))
            lifecycle.picture_passed(connection, picture_id)
        else:
            lifecycle.picture_refused(connection, picture_id, f"faceImage: {problem}")
            connection.execute(delete(BatchPicture).where(BatchPicture.id == picture_id))


def _ready_for_review(job_id: int) -> None:
    """Every picture is checked: the job waits for staff. The stored ZIP stays until the job starts, so
    that rows corrected on the review page can name its other files (lifecycle.start deletes it)."""
    lifecycle.ready_for_review(job_id, f"faceImage: {archive_gone()}")
