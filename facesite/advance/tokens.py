"""Access tokens: the documented signature, and a cache shared by every thread."""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field


def sign(access_key: str, secret_key: str, timestamp: str) -> str:
    """The documented signature: lower-case hex SHA-256 of key + secret + timestamp."""
    return hashlib.sha256(f"{access_key}{secret_key}{timestamp}".encode()).hexdigest()


@dataclass
class _CachedToken:
    token: str
    expires_at: float  # epoch seconds, from the vendor's expiredTime
    refresh_at: float


@dataclass
class AccessTokenCache:
    """Tokens per (host, access key), shared by every thread of the process.

    One lock per key: while one thread fetches a token, the others for the same
    key wait for it instead of asking the vendor again.
    """

    _tokens: dict = field(default_factory=dict)
    _locks: dict = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: tuple, fetch, refreshed=None) -> str:
        """The token for ``key``, fetched with ``fetch()`` when there is none or it is due for renewal;
        ``refreshed(succeeded)`` is told of each fetch (the client passes it on to its observer)."""
        cached = self._tokens.get(key)
        if cached and time.time() < cached.refresh_at:
            return cached.token
        with self._lock_for(key):
            cached = self._tokens.get(key)
            if cached and time.time() < cached.refresh_at:
                return cached.token
            try:
                token, expires_at = fetch()
            except Exception:
                if refreshed:
                    refreshed(False)
                raise
            if refreshed:
                refreshed(True)
            now = time.time()
            # Renew a little before the vendor's expiry: a minute, or a quarter of a short lifetime.
            margin = min(60.0, max(0.0, expires_at - now) / 4)
            self._tokens[key] = _CachedToken(token, expires_at, expires_at - margin)
            return token

    def invalidate(self, key: tuple, token: str) -> None:
        with self._lock_for(key):
            cached = self._tokens.get(key)
            if cached and cached.token == token:
                del self._tokens[key]

    def _lock_for(self, key: tuple) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())
