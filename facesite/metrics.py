"""What the portal counts for Prometheus (exposed at /metrics by facesite/web/metrics.py).

Only prometheus-client, no Flask. Every label takes
values from a small known set (Flask endpoint names, HTTP statuses, the vendor's upper-case codes, a
few reasons), never a path, an id or a message, so the number of series stays bounded.

Under gunicorn each worker writes its counts to files in PROMETHEUS_MULTIPROC_DIR (made fresh by the
master, multiprocess.py) and a scrape adds them up; elsewhere (tests, ``flask run``) they live in this
process's default registry. prometheus-client picks the mode when it is first imported, from that
variable, so gunicorn's master sets it before anything imports this module.
"""
from __future__ import annotations

import re
import threading

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("facesite_http_requests", "Requests answered, by Flask endpoint and HTTP status.",
                        ["endpoint", "status"])
HTTP_SECONDS = Histogram("facesite_http_request_seconds", "Time to answer a request, by Flask endpoint.",
                         ["endpoint"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
VENDOR_CALLS = Counter("facesite_vendor_calls", "Vendor calls, by API call (token, add_face, search) and outcome: "
                       "the vendor's code, or TRANSPORT_* when no usable answer came.", ["call", "outcome"])
VENDOR_SECONDS = Histogram("facesite_vendor_call_seconds", "Time a vendor call took, by API call.", ["call"],
                           buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60))
VENDOR_CHARGED = Counter("facesite_vendor_charged_calls", "Vendor calls the vendor said it charged "
                         "(pricingStrategy PAY), by API call.", ["call"])
TOKEN_REFRESHES = Counter("facesite_vendor_token_refreshes", "Access tokens fetched from the vendor, by result.",
                          ["result"])
PICTURES_PREPARED = Counter("facesite_pictures_accepted", "Uploaded pictures accepted for sending (forms and batch "
                            "rows): prepared, or checked as sent when preparation is off.", ["how"])
PICTURES_REFUSED = Counter("facesite_pictures_refused", "Uploaded pictures refused before any vendor call, by reason.",
                           ["reason"])

# The vendor's codes are upper-case words (SUCCESS, SERVICE_BUSY, ...). Anything else, or more distinct
# codes than any real vendor has, is counted as OTHER: a label must never take a value per request.
VENDOR_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,47}")
MOST_OUTCOMES = 64
_outcomes_seen: set[str] = set()
_outcomes_lock = threading.Lock()

def outcome_label(code: str | None) -> str:
    code = code or "NONE"
    if not VENDOR_CODE.fullmatch(code):
        return "OTHER"
    with _outcomes_lock:
        if code not in _outcomes_seen and len(_outcomes_seen) >= MOST_OUTCOMES:
            return "OTHER"
        _outcomes_seen.add(code)
    return code


def count_request(endpoint: str | None, status: int, seconds: float) -> None:
    endpoint = endpoint or "none"  # no route matched: every unknown path shares one label
    HTTP_REQUESTS.labels(endpoint, str(status)).inc()
    HTTP_SECONDS.labels(endpoint).observe(seconds)


def count_vendor_call(call: str, outcome_code: str | None, pricing: str | None, seconds: float) -> None:
    call = call if call in ("token", "add_face", "search") else "other"
    VENDOR_CALLS.labels(call, outcome_label(outcome_code)).inc()
    VENDOR_SECONDS.labels(call).observe(seconds)
    if pricing == "PAY":
        VENDOR_CHARGED.labels(call).inc()


def count_token_refresh(succeeded: bool) -> None:
    TOKEN_REFRESHES.labels("ok" if succeeded else "failed").inc()


def count_picture_accepted(prepared: bool) -> None:
    PICTURES_PREPARED.labels("prepared" if prepared else "as_sent").inc()


def count_picture_refused(reason: str) -> None:
    """``reason``: ImageRuleError.reason, a word from a short fixed list."""
    PICTURES_REFUSED.labels(reason).inc()
