"""How long a batch job keeps its pictures, its stored ZIP and full ID numbers, state by state.

Each is kept only as long as it may still be sent: a finished job's for BATCH_KEEP_DAYS (failed
rows can be retried), a job never started for BATCH_KEEP_UNSTARTED_DAYS after its upload, a paused
job for BATCH_KEEP_PAUSED_DAYS after it paused, and a queued or running job for
BATCH_KEEP_STALLED_DAYS after its last row finished (a job no runner ever takes up). What a purge
removes is logged as counts, never a name or a number. The purge runs once a day for the whole
cluster (the last run is remembered in the settings table, claimed with one conditional update),
from every process's batch sweeper, with the portal's other records (see facesite/retention.py), and on
demand with ``flask --app app purge``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from facesite.batch import lifecycle
from facesite.batch.states import NOT_STARTED, RUNNABLE, JobState
from facesite.config import settings
from facesite.extensions import db
from facesite.models import BatchJob, BatchPicture, BatchRow, BatchUploadChunk, Setting, utcnow

log = logging.getLogger(__name__)

LAST_PURGE_KEY = "batch_purged_at"
PURGE_EVERY = timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    """Jobs in ``states`` whose ``clock()`` (a column or expression) is older than ``setting`` days;
    ``mark`` (lifecycle.py) ends the rows that can no longer be sent, saying ``why``."""

    label: str
    states: tuple[str, ...]
    setting: str
    clock: Callable
    why: object = ""  # ends the message of each row that can no longer be sent (lazy: in the portal's language)
    mark: Callable | None = None


def _last_progress():
    last_row = select(func.max(BatchRow.finished_at)).where(BatchRow.job_id == BatchJob.id).scalar_subquery()
    return func.coalesce(last_row, BatchJob.started_at, BatchJob.created_at)


RULES = (
    Rule("finished", (JobState.FINISHED,), "BATCH_KEEP_DAYS", lambda: BatchJob.finished_at),
    Rule("not started", NOT_STARTED, "BATCH_KEEP_UNSTARTED_DAYS", lambda: BatchJob.created_at,
         _l("the batch was not started within %(days)s days"), lifecycle.purge_unstarted),
    Rule("paused", (JobState.PAUSED,), "BATCH_KEEP_PAUSED_DAYS",
         lambda: func.coalesce(BatchJob.paused_at, BatchJob.started_at, BatchJob.created_at),
         _l("the batch stayed paused for %(days)s days"), lifecycle.purge_unsendable),
    Rule("stalled", RUNNABLE, "BATCH_KEEP_STALLED_DAYS", _last_progress,
         _l("no row of the batch finished for %(days)s days"), lifecycle.purge_unsendable),
)


def claim_daily_run(now: datetime) -> bool:
    """True for the one process of the cluster that runs the purge now (none ran in the last PURGE_EVERY)."""
    stamp, due_before = now.isoformat(timespec="seconds"), (now - PURGE_EVERY).isoformat(timespec="seconds")
    with db.engine.begin() as connection:  # ISO timestamps of one format sort as text
        if connection.execute(update(Setting).where(Setting.key == LAST_PURGE_KEY, Setting.value < due_before)
                              .values(value=stamp, changed_at=now, changed_by="purge")).rowcount:
            return True
        if connection.scalar(select(Setting.key).where(Setting.key == LAST_PURGE_KEY)) is not None:
            return False
    try:  # the very first purge: whoever inserts the row runs it
        _stamp(now)
    except IntegrityError:
        return False
    return True


def _stamp(now: datetime) -> None:
    with db.engine.begin() as connection:
        connection.execute(insert(Setting).values(key=LAST_PURGE_KEY, value=now.isoformat(timespec="seconds"),
                                                  changed_at=now, changed_by="purge"))


def purge(now: datetime | None = None, remember: bool = False) -> dict[str, int]:
    """Drop what each job past its state's time still holds; jobs purged per state (and totals)."""
    now = now or utcnow()
    figures = {"rows": 0, "pictures": 0, "chunks": 0}
    for rule in RULES:
        days = getattr(settings(), rule.setting.lower())
        ids = list(db.session.scalars(select(BatchJob.id).where(
            BatchJob.state.in_(rule.states), rule.clock() < now - timedelta(days=days), _holds_personal_data())))
        db.session.commit()
        figures[rule.label] = len(ids)
        if ids:
            _clear(ids, rule, days, now, figures)
    if remember:
        with db.engine.begin() as connection:
            connection.execute(delete(Setting).where(Setting.key == LAST_PURGE_KEY))
        _stamp(now)
    log.info("batch purge: %s", describe(figures))
    return figures


def describe(figures: dict[str, int]) -> str:
    """What a purge removed, in counts only."""
    jobs = ", ".join(f"{rule.label} {figures[rule.label]}" for rule in RULES)
    return (f"jobs {jobs}; full ID numbers and pictures dropped from {figures['rows']} rows, "
            f"{figures['pictures']} pictures and {figures['chunks']} chunks of stored uploads deleted")


def _holds_personal_data():
    return or_(exists().where(BatchRow.job_id == BatchJob.id,
                              or_(BatchRow.id_number.is_not(None), BatchRow.picture_id.is_not(None),
                                  BatchRow.cells.is_not(None))),
               exists().where(BatchPicture.job_id == BatchJob.id),
               exists().where(BatchUploadChunk.job_id == BatchJob.id))


def _clear(ids: list[int], rule: Rule, days: int, now: datetime, figures: dict) -> None:
    # Nobody asked for this purge: its words are in the portal's default language (DEFAULT_LOCALE).
    why = str(rule.why) % {"days": days} + f" ({rule.setting})"
    gone = _("The photo and full ID number were deleted: %(why)s. Upload this row again in a new batch.", why=why)
    with db.engine.begin() as connection:
        if rule.mark is not None:
            rule.mark(connection, ids, gone, now)
        figures["rows"] += connection.execute(update(BatchRow).where(
            BatchRow.job_id.in_(ids), or_(BatchRow.id_number.is_not(None), BatchRow.picture_id.is_not(None),
                                          BatchRow.cells.is_not(None)))
            .values(id_number=None, picture_id=None, cells=None)).rowcount
        figures["pictures"] += connection.execute(delete(BatchPicture).where(BatchPicture.job_id.in_(ids))).rowcount
        figures["chunks"] += connection.execute(
            delete(BatchUploadChunk).where(BatchUploadChunk.job_id.in_(ids))).rowcount
