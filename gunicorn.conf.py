"""gunicorn settings for the Procfile's web process (read by ``gunicorn -c gunicorn.conf.py``).

Staff requests spend most of their time waiting on the vendor, so each worker
serves many requests at once on threads: WEB_CONCURRENCY processes times
GUNICORN_THREADS threads are served together. Each worker's event loop first reads
every request in full, within deadlines, so slow or stalled clients never hold a
thread (facesite/serving: why, and how).
"""
import os

from facesite.serving import MB, ServingLimits, buffering_worker

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "50"))


def _setting(name: str, default: str) -> str:
    return os.environ.get(name) or default  # an empty variable (as in .env.example) means the default


# Open connections per worker; at the cap an idle or stalled one makes room for a new one.
worker_connections = int(_setting("SERVER_MAX_CONNECTIONS", "1000"))
# By default the largest body is the largest upload the portal itself accepts (a batch), so
# anything it would refuse anyway is refused before it is read.
_largest_upload_mb = max(int(_setting("MAX_UPLOAD_MB", "16")), int(_setting("BATCH_MAX_UPLOAD_MB", "1024")))
worker_class = buffering_worker(ServingLimits(
    header_timeout=float(_setting("SERVER_HEADER_TIMEOUT", "10")),
    body_timeout=float(_setting("SERVER_BODY_TIMEOUT", "30")),
    body_min_rate=max(1, int(float(_setting("SERVER_BODY_MIN_RATE_KB", "10")) * 1024)),
    max_header_bytes=int(_setting("SERVER_MAX_HEADER_KB", "32")) * 1024,
    max_body_bytes=int(_setting("SERVER_MAX_BODY_MB", str(_largest_upload_mb))) * MB,
    max_buffered_bytes=int(_setting("SERVER_BUFFER_MB", str(2 * _largest_upload_mb))) * MB,
    send_timeout=float(_setting("SERVER_SEND_TIMEOUT", "60")),
))
# Longer than the vendor read timeout (ADVANCE_READ_TIMEOUT, 30 s) so a slow vendor
# call ends with the portal's own error page, not a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "90"))
graceful_timeout = 30
# Seconds a kept-alive connection may stay silent before it is closed.
keepalive = int(_setting("SERVER_KEEPALIVE", "5"))
accesslog = "-"
# gunicorn's runtime control socket (one per user's home by default) would let several portals on one
# machine talk over each other, and nothing here uses it: deploys go through the platform.
control_socket_disable = True
# The access log shows paths and status codes only; no query holds a secret.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def on_starting(server):
    """Once for all workers: start the sandbox (when there are no vendor credentials)
    and bring the database up to date."""
    from facesite.config import needs_embedded_sandbox

    if needs_embedded_sandbox():
        from facesite.sandbox.cli import sandbox_db_path
        from facesite.sandbox.launcher import start_sandbox

        base_url, process = start_sandbox(sandbox_db_path())
        os.environ["ADVANCE_BASE_URL"] = base_url  # the workers, forked later, read it
        server.sandbox_process = process
        server.log.info("no vendor credentials: using the embedded sandbox at %s", base_url)

    # Migrate and announce the first administrator's link once, here, not in every worker.
    from facesite import create_app
    from facesite.extensions import db

    app = create_app()
    with app.app_context():
        db.engine.dispose()  # workers are forked from here: they must not inherit open connections
    os.environ["FACESITE_DB_READY"] = "1"


def post_worker_init(worker):
    """Each web worker looks for batch jobs to run or resume from the start, not only after its first
    request; and on SIGTERM its batch runners stop sending at once (facesite/batch/scheduler.py)."""
    import signal

    batch = worker.wsgi.extensions["batch"]
    batch.start()
    batch.stop_on(signal.SIGTERM)


def worker_exit(server, worker):
    """A worker stopping (deploy, restart): batch jobs it runs finish their calls and are handed back."""
    app = getattr(worker, "wsgi", None)
    if app is not None:
        app.extensions["batch"].stop()


def when_ready(server):
    host, port = bind.rsplit(":", 1)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    server.log.info("facesite is ready: open http://%s:%s/", shown, port)


def on_exit(server):
    process = getattr(server, "sandbox_process", None)
    if process is not None:
        from facesite.sandbox.launcher import stop_sandbox

        stop_sandbox(process)
