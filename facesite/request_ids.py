"""One id per request, so a screenshot of an error page leads to the log lines and the audit row.

Behind a counted router (TRUSTED_PROXY_HOPS), the router's ``X-Request-Id`` is kept when it looks like an
id (a bounded run of safe characters), so the router's logs and the portal's share it; anything else
(missing, a line break, kilobytes) is replaced by a fresh one. With no router counted, the header can only
be the client's own, which would let staff file their vendor calls under another request's id in the audit
trail: every request gets a fresh one. The id is returned in the answer's ``X-Request-Id`` header, printed on every
log line (``RequestIdFilter``), shown on error pages and stored with each vendor call (audit.py).
Background work has no request: a batch runner binds its job's and row's ids instead (``bound``).
"""
from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from werkzeug.wsgi import ClosingIterator

HEADER = "X-Request-Id"
# Routers send a UUID (Heroku), hex or dotted ids: letters, digits, "_.:-", 8 to 64 (the audit column).
SANE = re.compile(r"[A-Za-z0-9_.:-]{8,64}")
ENVIRON_ID = "facesite.request_id"
ENVIRON_STARTED = "facesite.request_started"  # time.perf_counter() as the request came in (metrics)
NONE = "-"  # what a log line outside any request shows

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current() -> str | None:
    """The id of the request (or batch row) this thread works for, if any."""
    return _current.get()


def accepted(incoming: str | None) -> str:
    """The incoming id when it is sane, else a new one."""
    if incoming and SANE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


@contextmanager
def bound(request_id: str):
    """Log lines and vendor calls inside this block carry ``request_id``."""
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)


class RequestIds:
    """WSGI middleware, outermost: every answer, error pages and refusals before Flask included, carries
    the id, and every log line written while the request runs (its streamed body too) shows it."""

    def __init__(self, wsgi_app, trust_router: bool):
        self.wsgi_app = wsgi_app
        self.trust_router = trust_router  # a router is counted in front (TRUSTED_PROXY_HOPS): its id is kept

    def __call__(self, environ, start_response):
        request_id = accepted(environ.get("HTTP_X_REQUEST_ID") if self.trust_router else None)
        environ[ENVIRON_ID] = request_id
        environ[ENVIRON_STARTED] = time.perf_counter()
        _current.set(request_id)

        def start_with_id(status, headers, exc_info=None):
            headers = [(name, value) for name, value in headers if name.lower() != HEADER.lower()]
            return start_response(status, [*headers, (HEADER, request_id)], exc_info)

        try:
            answer = self.wsgi_app(environ, start_with_id)
        except BaseException:
            _forget()
            raise
        return ClosingIterator(answer, _forget)


def _forget() -> None:
    """A request is never inside another: once its answer is sent, the thread works for nobody."""
    _current.set(None)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request), for the formats to print."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or NONE
        return True


def template_context() -> dict:
    """For the error pages: the id staff are asked to quote."""
    return {"request_id": current()}
