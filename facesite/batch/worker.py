"""The Procfile's ``worker:`` process: an RQ worker for batch jobs (``python -m facesite.batch.worker``).

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

log = logging.getLogger("facesite.batch.worker")
_app = None


def portal_app():
    """The portal's app for this process. The web process migrates the database; a worker never does
    (two processes migrating at once on a first deploy would race)."""
    global _app
    if _app is None:
        from facesite import create_app
        from facesite.config import Settings

        _app = create_app(Settings.from_env({"MIGRATE_ON_START": "0", **os.environ}))
    return _app


def run_queued_job(job_id: int) -> bool:
    """What RQ runs for one queued batch job."""
    from facesite.batch.runner import run_job

    return run_job(portal_app(), job_id)


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        log.info("REDIS_URL is not set: batch jobs run inside the web processes; this worker has nothing to do")
        while True:
            signal.pause()  # until SIGTERM ends the process
    from redis import Redis
    from rq import Queue, SimpleWorker

    # Started with ``python -m``, this file runs as __main__, and RQ imports facesite.batch.worker afresh
    # to run a job: use that module's app, so that the jobs run in the app whose scheduler is stopped here.
    from facesite.batch.worker import portal_app as jobs_app
    from facesite.extensions import batch_scheduler

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
    worker = BatchWorker([Queue(app.config["BATCH_QUEUE"], connection=connection)], connection=connection)
    worker.work(with_scheduler=False)


if __name__ == "__main__":
    main()
