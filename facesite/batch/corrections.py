"""Correcting a batch under review, without uploading it again: cells typed on the review page, or a
corrected manifest uploaded against the same ZIP.

Either way the upload's own checks (manifest.py) run again on every row, against the ZIP the job keeps
until it starts, and the rows are written again: a picture already checked is kept (its rows are ready
at once), a file a corrected row names for the first time is checked in the background as at upload.
"""
from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field

from sqlalchemy import delete, select

from facesite.batch import archive, jobs, lifecycle
from facesite.batch.checking import archive_gone
from facesite.batch.limits import ManifestError, UploadLimits
from facesite.batch.manifest import COLUMNS, UNNAMED, Plan, PlannedRow, plan_upload, replan
from facesite.batch.scheduler import batch_scheduler
from facesite.batch.states import JobState, RowState
from facesite.extensions import db
from facesite.id_numbers import unseal_for_batch
from facesite.models import BatchJob, BatchPicture, BatchRow

EDITABLE = COLUMNS + (UNNAMED,)


@dataclass
class Corrected:
    """What a correction changed, by row number (as the spreadsheet numbers them)."""

    ready: list[int] = field(default_factory=list)  # had a problem, now ready to send
    checking: list[int] = field(default_factory=list)  # name a photo not checked yet: checked now
    problems: list[int] = field(default_factory=list)  # still (or newly) with a problem


def problem_columns(message: str | None) -> list[str]:
    """The columns a row's problems are about ("column: what is wrong" per line), in manifest order."""
    named = {line.split(":", 1)[0].strip() for line in (message or "").splitlines()}
    return [column for column in EDITABLE if column in named]


def correctable(job: BatchJob) -> bool:
    """Rows can be corrected while the job is under review and its ZIP and cells are still kept."""
    return job.state == JobState.REVIEW and job.archive_size is not None and db.session.scalar(
        select(BatchRow.id).where(BatchRow.job_id == job.id, BatchRow.cells.is_not(None)).limit(1)) is not None


def cells_of(row: BatchRow) -> dict:
    """The row's cells as uploaded (or corrected), its ID number unsealed among them."""
    if not row.cells:
        return {}
    number = unseal_for_batch(row.id_number)
    return json.loads(row.cells) | ({"idNumber": number} if number else {})


def fix_row(job: BatchJob, row_id: int, typed: dict[str, str], limits: UploadLimits) -> Corrected | None:
    """One row's cells as typed on the review page (an emptied cell is left out). None when the job can
    no longer be corrected."""
    rows = _rows_as_uploaded(job.id)
    if rows is None or row_id not in rows:
        return None
    row = rows[row_id]
    row.cells = {name: value for name, value in (row.cells | typed).items() if name in EDITABLE and value}
    outcome = _write(job, _planned(job, lambda zip_file: replan(zip_file, list(rows.values()), limits)))
    if outcome is not None:  # what is said is about the row corrected
        outcome.problems = [number for number in outcome.problems if number == row.row_number]
    return outcome


def replace_manifest(job: BatchJob, manifest: bytes, limits: UploadLimits) -> Corrected | None:
    """A corrected manifest for the same ZIP: planned exactly as at upload. Raises ManifestError."""
    if _rows_as_uploaded(job.id) is None:
        return None
    return _write(job, _planned(job, lambda zip_file: plan_upload(zip_file, manifest, job.face_set_id, limits)))


def _rows_as_uploaded(job_id: int) -> dict[int, PlannedRow] | None:
    rows = db.session.scalars(select(BatchRow).where(BatchRow.job_id == job_id)
                              .order_by(BatchRow.row_number, BatchRow.id)).all()
    if not rows or any(row.cells is None for row in rows):
        return None
    return {row.id: PlannedRow(row.row_number, {}, cells=cells_of(row)) for row in rows}


def _planned(job: BatchJob, make_plan: Callable[[zipfile.ZipFile], Plan]) -> Plan:
    """The plan made against the job's stored ZIP; ManifestError when it is gone (purged meanwhile)."""
    try:
        with closing(archive.open_stored(db.engine, job.id, job.archive_size or 0)) as zip_file:
            return make_plan(zip_file)
    except (zipfile.BadZipFile, OSError, EOFError) as error:
        raise ManifestError(archive_gone()) from error


def _write(job: BatchJob, plan: Plan) -> Corrected | None:
    skipped_before = set(db.session.scalars(select(BatchRow.row_number).where(
        BatchRow.job_id == job.id, BatchRow.state == RowState.SKIPPED)))
    checked = dict(db.session.execute(select(BatchPicture.member, BatchPicture.id).where(
        BatchPicture.job_id == job.id, BatchPicture.data.is_not(None))).all())
    db.session.commit()
    if not lifecycle.reopen(job):
        return None
    wanted = {row.member for row in plan.ready}
    keep = {member: picture_id for member, picture_id in checked.items() if member in wanted}
    db.session.execute(delete(BatchRow).where(BatchRow.job_id == job.id))
    db.session.execute(delete(BatchPicture).where(BatchPicture.job_id == job.id,
                                                  BatchPicture.id.not_in(list(keep.values()))))
    jobs.write_rows(job.id, plan, keep)
    db.session.refresh(job)
    lifecycle.uploaded(job, job.archive_size)
    if wanted - keep.keys():
        batch_scheduler().dispatch(job.id)  # the photos named for the first time are checked as at upload
    else:
        lifecycle.ready_for_review(job.id, f"faceImage: {archive_gone()}")
    outcome = Corrected()
    for row in plan.rows:
        if row.problems:
            outcome.problems.append(row.row_number)
        elif row.member not in keep:
            outcome.checking.append(row.row_number)
        elif row.row_number in skipped_before:
            outcome.ready.append(row.row_number)
    return outcome
