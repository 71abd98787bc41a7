"""Rate-limit counts shared by every process of one machine, without Redis: a small SQLite file in the
instance folder, as a storage of the ``limits`` library (Flask-Limiter's), under the scheme
``facesite-sqlite://<path>``.

Flask-Limiter's default without Redis counts in each process's memory, so under gunicorn the documented
"10 sign-ins a minute" was 10 per worker: 20 with two. Each count here is one short transaction that
SQLite serialises across processes (BEGIN IMMEDIATE), so the workers of a machine share every limit.
With REDIS_URL (many machines) Redis counts instead.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time

from limits.storage import Storage

from facesite import owner_only

SCHEME = "facesite-sqlite"
FORGET_EXPIRED_EVERY = 1000  # counts between two sweeps of expired keys


def uri_for(path: str) -> str:
    return f"{SCHEME}://{path}"


class SqliteCounts(Storage):
    """Fixed-window counters: key -> (count, when the window ends)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions, **options)
        self.path = (uri or "").split("://", 1)[1]
        self._local = threading.local()
        self._counted = 0
        owner_only.sqlite_file(self.path)  # counts per address or user name: owner-only, like the instance folder
        self._connection().execute(
            "CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)")

    @property
    def base_exceptions(self):
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per thread and process (a forked worker opens its own on first use).
        connection = getattr(self._local, "connection", None)
        if connection is None or getattr(self._local, "pid", None) != os.getpid():
            connection = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            self._local.connection, self._local.pid = connection, os.getpid()
        return connection

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now, connection = time.time(), self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.execute("DELETE FROM counts WHERE key = ? AND expires <= ?", (key, now))
            connection.execute("INSERT INTO counts (key, value, expires) VALUES (?, ?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value",
                               (key, amount, now + expiry))
            value = connection.execute("SELECT value FROM counts WHERE key = ?", (key,)).fetchone()[0]
            self._counted += 1
            if self._counted % FORGET_EXPIRED_EVERY == 0:
                connection.execute("DELETE FROM counts WHERE expires <= ?", (now,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return value

    def get(self, key: str) -> int:
        found = self._connection().execute("SELECT value FROM counts WHERE key = ? AND expires > ?",
                                           (key, time.time())).fetchone()
        return found[0] if found else 0

    def get_expiry(self, key: str) -> float:
        found = self._connection().execute("SELECT expires FROM counts WHERE key = ?", (key,)).fetchone()
        return found[0] if found else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        return self._connection().execute("DELETE FROM counts").rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counts WHERE key = ?", (key,))
