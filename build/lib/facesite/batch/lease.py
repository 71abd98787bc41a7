"""A batch job's lease: the one runner allowed to work on it, and proof that it is still alive.

A runner takes the lease with one conditional update (only if nobody holds it, or its
holder's lease ran out) and renews it every third of BATCH_LEASE_SECONDS. A lease that
ran out means its runner died: whoever takes the job over marks the rows that runner
had in flight as ``unknown`` (they may have reached the vendor), never re-sending them.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import timedelta

from flask import Flask
from sqlalchemy import case, or_, update

from facesite.batch import rows as row_outcome
from facesite.extensions import db
from facesite.models import BatchJob, BatchRow, utcnow

log = logging.getLogger(__name__)

RUNNABLE = ("queued", "running")
ACTIVE = ("checking",) + RUNNABLE  # states in which a job needs a runner


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take_lease(app: Flask, job_id: int, owner: str) -> bool:
    """Hold the job if nobody holds it (or its holder's lease ran out). Rows the previous
    holder had in flight become ``unknown``: they may have reached the vendor."""
    now = utcnow()
    with db.engine.begin() as connection:
        taken = connection.execute(
            update(BatchJob).where(BatchJob.id == job_id, BatchJob.state.in_(ACTIVE),
                                   or_(BatchJob.lease_until.is_(None), BatchJob.lease_until < now))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=app.config["BATCH_LEASE_SECONDS"]),
                    state=case((BatchJob.state == "checking", "checking"), else_="running")))
        if taken.rowcount != 1:
            return False
        connection.execute(update(BatchRow).where(BatchRow.job_id == job_id, BatchRow.state == "sending")
                           .values(row_outcome.unknown_after_restart(now)))
    return True


def release_lease(job_id: int, owner: str) -> None:
    with db.engine.begin() as connection:
        connection.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.lease_owner == owner)
                           .values(lease_owner=None, lease_until=None, wait_until=None))


class Lease(threading.Thread):
    """Renews the job's lease while the runner works; ``lost`` is set if another took it."""

    def __init__(self, app: Flask, job_id: int, owner: str):
        super().__init__(daemon=True, name=f"batch-lease-{job_id}")
        self.app, self.job_id, self.owner = app, job_id, owner
        self.seconds = app.config["BATCH_LEASE_SECONDS"]
        self.lost = threading.Event()
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.seconds / 3):
            try:
                with self.app.app_context(), db.engine.begin() as connection:
                    renewed = connection.execute(
                        update(BatchJob).where(BatchJob.id == self.job_id, BatchJob.lease_owner == self.owner)
                        .values(lease_until=utcnow() + timedelta(seconds=self.seconds)))
                if renewed.rowcount != 1:
                    self.lost.set()
                    return
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("could not renew the lease of batch job %s", self.job_id)
