"""A batch job's lease: the one runner allowed to work on it, and proof that it is still alive.

A runner takes the lease with one conditional update (only if nobody holds it, or its
holder's lease ran out: ``is_free``) and renews it every third of BATCH_LEASE_SECONDS. A lease that
ran out means its runner died: whoever takes the job over marks the rows that runner
had in flight as ``unknown`` (they may have reached the vendor), never re-sending them
(``lifecycle.take_over``).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import or_, update

from facesite.config import settings
from facesite.extensions import db
from facesite.models import BatchJob, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseOwner:
    """Who holds a lease: a process of a machine, and one runner in it. Stored as ``host:pid:token``
    (BatchJob.lease_owner), so that a sweeper on the same machine can tell a dead process's lease."""

    host: str
    pid: int
    token: str

    @classmethod
    def here(cls) -> LeaseOwner:
        """A new runner of this process."""
        return cls(socket.gethostname(), os.getpid(), uuid.uuid4().hex[:8])

    @classmethod
    def parse(cls, text: str) -> LeaseOwner:
        host, pid, token = text.rsplit(":", 2)
        return cls(host, int(pid), token)

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}:{self.token}"


def host_prefix(host: str) -> str:
    """What the stored owners of ``host`` start with."""
    return f"{host}:"


def is_free(now: datetime):
    """The lease rule, as a condition on BatchJob: nobody holds the job, or its holder's lease ran out."""
    return or_(BatchJob.lease_until.is_(None), BatchJob.lease_until < now)


def runs_out(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


class Lease(threading.Thread):
    """Renews the job's lease while the runner works; ``lost`` is set if another took it."""

    def __init__(self, app: Flask, job_id: int, owner: LeaseOwner):
        super().__init__(daemon=True, name=f"batch-lease-{job_id}")
        self.app, self.job_id, self.owner = app, job_id, owner
        self.seconds = settings(app).batch_lease_seconds
        self.lost = threading.Event()
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.wait(self.seconds / 3):
            try:
                with self.app.app_context(), db.engine.begin() as connection:
                    renewed = connection.execute(
                        update(BatchJob).where(BatchJob.id == self.job_id, BatchJob.lease_owner == str(self.owner))
                        .values(lease_until=runs_out(utcnow(), self.seconds)))
                if renewed.rowcount != 1:
                    self.lost.set()
                    return
            except Exception:  # a database hiccup: try again at the next beat
                log.exception("could not renew the lease of batch job %s", self.job_id)
