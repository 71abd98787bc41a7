"""gunicorn settings for the Procfile's web process (read by ``gunicorn -c gunicorn.conf.py``).

Staff requests spend most of their time waiting on the vendor, so each worker
serves many requests at once on threads: WEB_CONCURRENCY processes times
GUNICORN_THREADS threads are served together. Each worker's event loop first reads
every request in full, within deadlines, so slow or stalled clients never hold a
thread (facesite/serving: why, and how).
"""
import os

from facesite.config import SERVER_MASTER, ServingSettings, Settings
from facesite.environment import log_format
from facesite.log_format import gunicorn_logger_class
from facesite.sandbox.keys import sandbox_db_path
from facesite.sandbox.launcher import start_sandbox, stop_sandbox
from facesite.serving import metrics_directory
from facesite.serving.worker import buffering_worker

# Every value from the environment is read by facesite/config.py (README, "Configuration").
serving = ServingSettings.from_env(os.environ)
bind = serving.bind
workers = serving.workers
threads = serving.threads
# Open connections per worker; at the cap an idle or stalled one makes room for a new one.
worker_connections = serving.worker_connections
worker_class = buffering_worker(serving.limits)
# Longer than the vendor read timeout (ADVANCE_READ_TIMEOUT, 30 s) so a slow vendor
# call ends with the portal's own error page, not a killed worker.
timeout = serving.timeout
graceful_timeout = 30
# Seconds a kept-alive connection may stay silent before it is closed.
keepalive = serving.keepalive
accesslog = "-"
# gunicorn's runtime control socket (one per user's home by default) would let several portals on one
# machine talk over each other, and nothing here uses it: deploys go through the platform.
control_socket_disable = True
# The access log shows paths and status codes only; no query holds a secret. The request id (the
# answer's X-Request-Id) leads to the portal's own lines for that request.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'
forwarded_allow_ips = serving.forwarded_allow_ips
# LOG_FORMAT=json: gunicorn's own lines (access log included) are JSON objects too.
logger_class = gunicorn_logger_class(log_format(os.environ))


def on_starting(server):
    """Once for all workers: start the sandbox (when there are no vendor credentials)
    and bring the database up to date. What it finds is kept in SERVER_MASTER, which the
    workers, forked later, inherit."""
    if Settings.from_env(os.environ).advance_base_url is None:  # no credentials and no upstream named
        SERVER_MASTER.sandbox_url, process = start_sandbox(sandbox_db_path())
        server.sandbox_process = process
        server.log.info("no vendor credentials: using the embedded sandbox at %s", SERVER_MASTER.sandbox_url)

    # Counts from every worker, added up at /metrics: named before anything imports prometheus-client
    # (the sandbox above runs in its own process and counts nothing).
    server.metrics_directory = metrics_directory.fresh()

    # Migrate and announce the first administrator's link once, here, not in every worker. The portal is
    # imported only now, once the metrics directory is named (it imports prometheus-client).
    from facesite.app import create_app
    from facesite.extensions import db

    app = create_app()
    with app.app_context():
        db.engine.dispose()  # workers are forked from here: they must not inherit open connections
    SERVER_MASTER.database_ready = True


def post_worker_init(worker):
    """Each web worker looks for batch jobs to run or resume from the start, not only after its first
    request; and on SIGTERM its batch runners stop sending at once (facesite/batch/scheduler.py)."""
    import signal

    from facesite.batch.scheduler import batch_scheduler

    batch = batch_scheduler(worker.wsgi)
    batch.start()
    batch.stop_on(signal.SIGTERM)


def worker_exit(server, worker):
    """A worker stopping (deploy, restart): batch jobs it runs finish their calls and are handed back."""
    app = getattr(worker, "wsgi", None)
    if app is not None:
        from facesite.batch.scheduler import batch_scheduler

        batch_scheduler(app).stop()


def child_exit(server, worker):
    """A worker is gone (stopped, killed, timed out): its counts stay, its live gauges go."""
    metrics_directory.worker_gone(worker.pid)


def when_ready(server):
    host, port = bind.rsplit(":", 1)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    server.log.info("facesite is ready: open http://%s:%s/", shown, port)


def on_exit(server):
    process = getattr(server, "sandbox_process", None)
    if process is not None:
        stop_sandbox(process)
    metrics_directory.remove(getattr(server, "metrics_directory", None))
