"""Counting across gunicorn's worker processes (gunicorn.conf.py's hooks call these).

Each worker writes its counts to memory-mapped files named by its pid in one directory, and /metrics adds
them up. The directory must be new at every start (files from an earlier run would add old counts) and
named before prometheus-client is first imported, which is why gunicorn's master makes it first thing.
A worker that dies leaves its counters' files, so its counts are kept (counters never go down); only its
live gauges are dropped (``mark_process_dead``).
"""
from __future__ import annotations

import os
import shutil
import tempfile

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def fresh() -> str:
    """A new, empty directory for this server's counts, named in the environment the workers inherit."""
    path = tempfile.mkdtemp(prefix="facesite-metrics-")
    os.environ[VARIABLE] = path
    return path


def worker_gone(pid: int) -> None:
    from prometheus_client import multiprocess

    if os.environ.get(VARIABLE):
        multiprocess.mark_process_dead(pid)


def remove(path: str | None) -> None:
    if path:
        shutil.rmtree(path, ignore_errors=True)
