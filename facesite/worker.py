"""The Procfile's ``worker:`` process: an RQ worker for batch jobs (``python -m facesite.worker``).

With REDIS_URL set it serves the queue named by BATCH_QUEUE (default ``facesite-batch``). Each process builds the portal's
app once and runs jobs in itself (RQ's SimpleWorker: a job is hours of waiting on the
vendor, not worth a fork each), so killing the process stops its job; the job's lease
then runs out and another worker takes it over. Plain ``rq worker facesite-batch`` works
too (it forks per job).

Without REDIS_URL, batch jobs run inside the web processes and this process only says so
and waits: a local Procfile runner (honcho, foreman) would otherwise stop the portal too.
"""
from __future__ import annotations

import logging
import os
import signal
import sys

from redis import Redis
from rq import Queue, SimpleWorker

from facesite.app import create_app
from facesite.batch.runner import run_job
from facesite.batch.scheduler import batch_scheduler
from facesite.config import Settings, settings

log = logging.getLogger("facesite.worker")
_app = None


def portal_app():
    """The portal's app for this process. The web process migrates the database; a worker never does
    (two processes migrating at once on a first deploy would race)."""
    global _app
    if _app is None:
        _app = create_app(Settings.from_env({"MIGRATE_ON_START": "0", **os.environ}))
    return _app


def run_queued_job(job_id: int) -> bool:
    """What RQ runs for one queued batch job."""
    app = portal_app()
    return run_job(app, job_id, stopping=batch_scheduler(app).stopping)


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        log.info("REDIS_URL is not set: batch jobs run inside the web processes; this worker has nothing to do")
        while True:
            signal.pause()  # until SIGTERM ends the process
    # Started with ``python -m``, this file runs as __main__, and RQ imports facesite.worker afresh
    # to run a job: use that module's app, so that the jobs run in the app whose scheduler is stopped here.
    from facesite.worker import portal_app as jobs_app

    app = jobs_app()
    batch = batch_scheduler(app)

    class BatchWorker(SimpleWorker):
        def request_stop(self, signum, frame):
            # RQ's warm shutdown waits for the job in hand, which may have hours of rows left:
            # make it stop sending instead (its calls finish, the job goes back to the queue).
            batch.stop_sending()
            super().request_stop(signum, frame)

    batch.start()  # jobs left by a dead worker are queued again
    connection = Redis.from_url(redis_url)
    worker = BatchWorker([Queue(settings(app).batch_queue, connection=connection)], connection=connection)
    worker.work(with_scheduler=False)


if __name__ == "__main__":
    main()
