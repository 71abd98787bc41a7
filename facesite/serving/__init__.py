"""How the Procfile's web process meets its clients: every request is read in full by each gunicorn
worker's event loop, within time limits, before one of its threads runs the portal on it.

Why: gunicorn's own threaded worker gives a connection a thread from its first byte and waits on
it with no deadline, so a few hundred clients that send a byte now and then hold every thread and
the portal stops answering. Here, slow or stalled clients cost a socket and a small buffer each,
never a thread; they are cut off at a deadline, and at the connection cap the idle or slowest ones
make room for new ones. The threads (vendor calls, batch runners, Pillow) work as before.

``gunicorn.conf.py`` reads the settings below from the environment (README, "Deploying").
"""
from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class ServingLimits:
    """The bounds every client lives within (per worker process where it says so)."""

    #: Seconds from a connection's opening (or a kept-alive connection's next first byte) to the
    #: end of the request's headers.
    header_timeout: float = 10.0
    #: A body must bring ``body_min_rate`` bytes a second, counted over each ``body_timeout`` seconds.
    body_timeout: float = 30.0
    body_min_rate: int = 10 * 1024
    #: Request line and headers together.
    max_header_bytes: int = 32 * 1024
    #: The largest body; a larger one is refused before it is read.
    max_body_bytes: int = 1024 * MB
    #: Bodies a worker process holds at once while they arrive (memory and temporary files).
    max_buffered_bytes: int = 2048 * MB
    #: Seconds one write of an answer may take before a client that stopped reading is dropped.
    send_timeout: float = 60.0
    #: Headers (lower case) a request may carry once at most: the identity proxy's user, groups and shared
    #: secret. gunicorn joins repeated headers with "," before the portal sees them, so a client's own
    #: ``X-Forwarded-Groups: admins`` beside the proxy's would read as one list; refused here, raw.
    single_headers: frozenset[str] = frozenset({"x-proxy-secret", "x-forwarded-email"})
    #: The path the portal is mounted under (SCRIPT_NAME): a request for any other path is a 404 here, where
    #: gunicorn would answer an empty 500.
    mount_path: str = ""

