"""Who runs batch jobs: threads inside the portal's own processes (the default, nothing else to run),
or RQ workers when REDIS_URL is set (``worker:`` in the Procfile; any number, on any machine).

Either way the database is the truth: a job needs a runner when it is being checked, queued or
running and nobody holds its lease. Every portal process sweeps now and then for such jobs (new,
resumed, or left by a runner that died) and runs them itself or hands them to the queue.
"""
from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import or_, update

from facesite.batch.lease import LeaseOwner, host_prefix, is_free
from facesite.batch.runner import run_job
from facesite.batch.states import NEEDS_RUNNER
from facesite.config import settings
from facesite.extensions import db
from facesite.models import BatchJob, utcnow

log = logging.getLogger(__name__)
# How often a process asks whether the daily purge of old batch data is due (it runs once a day
# for the whole cluster, in whichever process asks first; see facesite/retention.py).
PURGE_LOOK_EVERY_SECONDS = 600
EXTENSION = "facesite.batch"  # where an app keeps its scheduler (app.extensions)


class BatchScheduler:
    """This process's share of the batch work, started and stopped here and nowhere else.

    ``start()``: once per process (after a fork too), a sweeper thread looks for jobs to run every
    BATCH_SWEEP_SECONDS. create_app calls it before the first request; under gunicorn the
    post_worker_init hook calls it at once, and the RQ worker as it starts.
    ``stop_sending()``: the process was asked to stop (SIGTERM from a deploy or a restart): runners
    let the calls in flight finish and hand their jobs back, so nothing is left "sending" and
    another process resumes them at once. ``stop()`` does that and waits for the runners of this
    process; it runs when gunicorn lets a worker go, and at exit once a job ran here.
    """

    def __init__(self, app: Flask, daily_purge: Callable[[], object] | None = None):
        self.app = app
        # The portal's daily purge of every kind of record (facesite/retention.py), which the sweeper
        # asks now and then whether it is due; given by create_app, so the engine knows nothing of it.
        self.daily_purge = daily_purge
        self.mode = settings(app).batch_runner  # "thread" or "rq"
        self.stopping = threading.Event()  # read by every runner of this process (runner.run_job)
        self.running_here: dict[int, threading.Thread] = {}
        # Jobs dispatched again while their thread was still winding up (a retry clicked the moment a job
        # finished): that thread starts another run as it ends, instead of the job waiting for a sweep.
        self.run_again: set[int] = set()
        self.lock = threading.Lock()
        self.sweeper_pid: int | None = None
        self.purge_looked_at = -float("inf")  # the first sweep looks (the monotonic clock may start near 0)
        self.stop_registered = False

    def start(self) -> None:
        """Once per process (after a fork too): look for runnable jobs every BATCH_SWEEP_SECONDS."""
        if settings(self.app).batch_sweep_seconds <= 0 or self.sweeper_pid == os.getpid():
            return
        self.sweeper_pid = os.getpid()
        threading.Thread(target=self._sweep_forever, daemon=True, name="batch-sweeper").start()

    def stop_on(self, signum: int) -> None:
        """On ``signum``, stop sending at once, then let the handler already there do its part
        (gunicorn's own only lets the web requests drain: a job could go on sending for the whole
        graceful timeout)."""
        handler_before = signal.getsignal(signum)

        def stop_sending_then(received, frame):
            self.stop_sending()
            if callable(handler_before):
                handler_before(received, frame)

        signal.signal(signum, stop_sending_then)

    def stop_sending(self) -> None:
        self.stopping.set()

    def stop(self, timeout: float = 25.0) -> None:
        """The process is stopping: let the calls in flight finish and hand the jobs back (within
        ``timeout``, less than gunicorn's graceful timeout), so none of their rows needs checking."""
        self.stop_sending()
        deadline = time.monotonic() + timeout
        for thread in list(self.running_here.values()):
            thread.join(max(0.0, deadline - time.monotonic()))

    def dispatch(self, job_id: int) -> None:
        """A job was started or resumed: get it going now rather than at the next sweep."""
        if self.mode == "rq":
            from redis.exceptions import RedisError

            with self.app.app_context():
                self._mark_queued(job_id, utcnow())
            try:
                self.enqueue(job_id)
            except RedisError:  # the job is safe in the database: a later sweep queues it again
                log.exception("could not queue batch job %s; it is queued again once Redis answers", job_id)
        else:
            self.run_here(job_id)

    # -- in-process runners --------------------------------------------------------

    def run_here(self, job_id: int) -> threading.Thread | None:
        with self.lock:
            if self.stopping.is_set():
                return None
            if job_id in self.running_here:
                self.run_again.add(job_id)
                return None
            if not self.running_here and not self.stop_registered:
                atexit.register(self.stop)
                self.stop_registered = True
            thread = threading.Thread(target=self._run, args=(job_id,), daemon=True, name=f"batch-job-{job_id}")
            self.running_here[job_id] = thread
        thread.start()
        return thread

    def _run(self, job_id: int) -> None:
        try:
            run_job(self.app, job_id, stopping=self.stopping)
        except Exception:
            log.exception("batch job %s stopped on an error; it resumes at the next sweep", job_id)
        finally:
            with self.lock:
                self.running_here.pop(job_id, None)
                again = job_id in self.run_again
                self.run_again.discard(job_id)
            if again:
                self.run_here(job_id)

    # -- RQ ------------------------------------------------------------------------------

    def enqueue(self, job_id: int) -> None:
        from redis import Redis
        from rq import Queue

        queue = Queue(settings(self.app).batch_queue, connection=Redis.from_url(settings(self.app).redis_url))
        # No time limit: a job of thousands of rows runs for hours; its lease shows it is alive.
        queue.enqueue("facesite.worker.run_queued_job", job_id, job_timeout=-1, result_ttl=0,
                      failure_ttl=7 * 86400, description=f"facesite batch job {job_id}")

    def _mark_queued(self, job_id: int, now, stale_before=None) -> bool:
        """Note that the job was handed to the queue; with ``stale_before``, only if it was not
        handed over since then (so many portal processes sweeping enqueue a job once)."""
        condition = [BatchJob.id == job_id]
        if stale_before is not None:
            condition.append(or_(BatchJob.queued_at.is_(None), BatchJob.queued_at < stale_before))
        with db.engine.begin() as connection:
            return connection.execute(update(BatchJob).where(*condition).values(queued_at=now)).rowcount == 1

    # -- sweeping ------------------------------------------------------------------------------

    def _sweep_forever(self) -> None:
        while True:
            try:
                self.sweep()
            except Exception:  # the database may be restarting: try again later
                log.exception("batch sweep failed")
            time.sleep(settings(self.app).batch_sweep_seconds)

    def sweep(self) -> list[int]:
        """Run (or enqueue) every job that is runnable and held by nobody."""
        with self.app.app_context():
            if self.daily_purge and time.monotonic() - self.purge_looked_at > PURGE_LOOK_EVERY_SECONDS:
                self.purge_looked_at = time.monotonic()
                try:
                    self.daily_purge()
                except Exception:  # never let it hold up the jobs: it is tried again later
                    log.exception("batch purge failed")
            self._forget_dead_runners_here()
            now = utcnow()
            ids = list(db.session.scalars(db.select(BatchJob.id).where(
                BatchJob.state.in_(NEEDS_RUNNER), is_free(now))))
            if self.mode == "rq":
                stale = now - timedelta(seconds=settings(self.app).batch_lease_seconds)
                ids = [job_id for job_id in ids if self._mark_queued(job_id, now, stale_before=stale)]
        for job_id in ids:
            self.enqueue(job_id) if self.mode == "rq" else self.run_here(job_id)
        return ids

    def _forget_dead_runners_here(self) -> None:
        """A lease held by a process of this machine that no longer exists ends now, not when it
        runs out: after a restart, jobs resume within one sweep."""
        here = host_prefix(socket.gethostname())
        owners = db.session.scalars(db.select(BatchJob.lease_owner).where(BatchJob.lease_owner.startswith(here)))
        dead = [owner for owner in owners if not _process_alive(LeaseOwner.parse(owner).pid)]
        if dead:
            with db.engine.begin() as connection:
                connection.execute(update(BatchJob).where(BatchJob.lease_owner.in_(dead)).values(lease_until=None))


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # our own runners renew their leases; a lease of ours is never stale
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process nobody has reaped yet (a zombie) still answers kill(pid, 0)
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def init_app(app: Flask, daily_purge: Callable[[], object] | None = None) -> BatchScheduler:
    """This process's scheduler for ``app``; under gunicorn the sweeper starts as each worker starts
    (gunicorn.conf.py), elsewhere on the first request (never at import: gunicorn's master would run
    jobs it cannot finish)."""
    scheduler = app.extensions[EXTENSION] = BatchScheduler(app, daily_purge)
    app.before_request(scheduler.start)
    return scheduler


def batch_scheduler(app: Flask | None = None) -> BatchScheduler:
    """What starts, runs and stops this process's batch jobs."""
    return (app or current_app).extensions[EXTENSION]
