"""``/metrics``: the counts of every web process in Prometheus's text format, and who may read them.

Open to a scraper on this machine (the connection's own peer is loopback and no proxy forwarded it) or
to anyone with ``Authorization: Bearer <METRICS_TOKEN>``; everyone else gets the portal's plain 404, as
for a page that does not exist (a wrong token: 401, nothing more). The access policy lets everyone
reach the view, which decides.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import threading
import time

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import func, select

from facesite import metrics, request_ids
from facesite.batch.states import JobState, RowState
from facesite.config import settings
from facesite.extensions import db
from facesite.models import BatchJob, BatchRow

bp = Blueprint("metrics", __name__)

# The database counts are taken at most this often per process, however often anyone scrapes:
# two GROUP BY queries on indexed columns, their cost bounded by the scrape interval.
DATABASE_COUNTS_SECONDS = 15.0


@bp.get("/metrics")
def metrics_page():
    if not _may_read():
        abort(404)
    return Response(generate_latest(_Scrape(current_app._get_current_object())), mimetype=CONTENT_TYPE_LATEST)


def _may_read() -> bool:
    if from_this_machine(request.environ):
        return True
    token = settings().metrics_token
    sent = request.headers.get("Authorization", "")
    if not sent:
        return False
    scheme, _, value = sent.partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
        return True
    abort(Response("Unauthorized\n", 401, {"WWW-Authenticate": "Bearer", "Content-Type": "text/plain"}))


def from_this_machine(environ: dict) -> bool:
    """Whether the connection itself came from loopback, not through a proxy. REMOTE_ADDR is rewritten by
    ProxyFix from X-Forwarded-For (TRUSTED_PROXY_HOPS), so the socket's own peer is read from what
    ProxyFix kept; and a proxy on this machine forwarding an outside visitor also connects from
    loopback, so any forwarding header makes the request an outside one."""
    peer = environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", environ.get("REMOTE_ADDR"))
    if any(environ.get(name) for name in ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")):
        return False
    try:
        return ipaddress.ip_address((peer or "").split("%", 1)[0]).is_loopback
    except ValueError:  # a unix socket, or no address at all
        return False


class _Scrape:
    """What one scrape shows: every web process's counts, and the batch counts from the database."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # under gunicorn: every worker's files, added up
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()
        yield from _database_counts(self.app)


_counts_lock = threading.Lock()
_counts: dict = {"at": float("-inf"), "jobs": {}, "rows": {}}


def _database_counts(app: Flask):
    with _counts_lock:  # one query at a time per process; the others use its answer
        if time.monotonic() - _counts["at"] >= DATABASE_COUNTS_SECONDS or _counts.get("app") is not app:
            with db.engine.connect() as connection:
                _counts["jobs"] = dict(connection.execute(select(BatchJob.state, func.count()).group_by(BatchJob.state)).all())
                _counts["rows"] = dict(connection.execute(select(BatchRow.state, func.count()).group_by(BatchRow.state)).all())
            _counts.update(at=time.monotonic(), app=app)
    jobs = GaugeMetricFamily("facesite_batch_jobs", "Batch jobs, by state (from the database).", labels=["state"])
    for state in JobState:
        jobs.add_metric([state.value], _counts["jobs"].get(state.value, 0))
    rows = GaugeMetricFamily("facesite_batch_rows", "Batch rows, by state (from the database); "
                             "unknown: may have reached the vendor, a person must check.", labels=["state"])
    for state in RowState:
        rows.add_metric([state.value], _counts["rows"].get(state.value, 0))
    return jobs, rows


def count_requests(response):
    """after_request: every answer Flask gives, by endpoint and status, with the time since it came in."""
    started = request.environ.get(request_ids.ENVIRON_STARTED)
    metrics.count_request(request.endpoint, response.status_code,
                          time.perf_counter() - started if started is not None else 0.0)
    return response
