"""Client for the ADVANCE.AI Face Search API: HTTP, access tokens and the API's JSON.

The only module that knows the vendor's paths and envelope. It knows nothing of
Flask or forms, raises typed errors, and never puts a key or token into an
exception, a log line or a repr. The sandbox upstream is reached through this
same code.
"""
from __future__ import annotations

import email.utils
import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

REGION_HOSTS = {
    "id": "https://api.advance.ai",
    "sg": "https://sg-api.advance.ai",
    "ph": "https://ph-api.advance.ai",
    "th": "https://th-api.advance.ai",
    "my": "https://my-api.advance.ai",
    "mex": "https://mex-api.advance.ai",
}
TOKEN_PATH = "/openapi/auth/ticket/v1/generate-token"
ADD_FACE_PATH = "/intl/openapi/face-search/facereferences"
SEARCH_PATH = "/intl/openapi/face-search/search"
TOKEN_HEADER = "X-ACCESS-TOKEN"
# Add Face's optional fields, by their API names.
ADD_FACE_DETAILS = ("externalReferenceId", "idNumber", "idCardType", "country", "name")

# Codes that say "try again later"; their answers carry a Retry-After header.
BUSY_CODES = {"SERVICE_BUSY", "RETRY_LATER", "OVER_QUERY_LIMIT"}


def sign(access_key: str, secret_key: str, timestamp: str) -> str:
    """The documented signature: lower-case hex SHA-256 of key + secret + timestamp."""
    return hashlib.sha256(f"{access_key}{secret_key}{timestamp}".encode()).hexdigest()


def parse_retry_after(value: str | None) -> int | None:
    """Seconds to wait, from a Retry-After written as ``10``, ``10s``, ``1.5 s`` or an HTTP date."""
    if not value:
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)?\s*", value, re.IGNORECASE)
    if match:
        return max(0, round(float(match.group(1))))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0, round(when.timestamp() - time.time()))


@dataclass
class VendorResponse:
    """The vendor's common envelope."""

    code: str
    message: str
    data: Any = None
    extra: Any = None
    transaction_id: str | None = None
    pricing_strategy: str | None = None
    http_status: int = 200
    retry_after: int | None = None

    @classmethod
    def from_http(cls, response: requests.Response, body: dict) -> "VendorResponse":
        return cls(
            code=str(body.get("code") or ""),
            message=str(body.get("message") or ""),
            data=body.get("data"),
            extra=body.get("extra"),
            transaction_id=body.get("transactionId"),
            pricing_strategy=body.get("pricingStrategy"),
            http_status=response.status_code,
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
        )


class AdvanceError(Exception):
    """Any failure of a vendor call. ``step`` is "token" or the call's name."""

    step = "call"


class VendorError(AdvanceError):
    """The vendor answered, with a code other than SUCCESS."""

    def __init__(self, response: VendorResponse, step: str = "call"):
        super().__init__(f"{response.code}: {response.message}")
        self.response = response
        self.step = step


class TransportError(AdvanceError):
    """No usable answer: timeout, refused connection, HTTP error, or a body that is not the envelope.

    ``may_have_reached`` is True when the vendor may have acted on the request
    (it was sent in full before the failure), so it must not be replayed blindly.
    """

    def __init__(self, kind: str, detail: str, *, may_have_reached: bool, step: str = "call",
                 http_status: int | None = None, retry_after: int | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.may_have_reached = may_have_reached
        self.step = step
        self.http_status = http_status
        self.retry_after = retry_after


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

    def get(self, key: tuple, fetch) -> str:
        cached = self._tokens.get(key)
        if cached and time.time() < cached.refresh_at:
            return cached.token
        with self._lock_for(key):
            cached = self._tokens.get(key)
            if cached and time.time() < cached.refresh_at:
                return cached.token
            token, expires_at = fetch()
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


_shared_token_cache = AccessTokenCache()


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when no connection was made, so the vendor cannot have seen the request."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError))


class AdvanceClient:
    """Calls Face Search on one host with either signed tokens or one fixed token."""

    def __init__(self, base_url: str, *, access_key: str | None = None, secret_key: str | None = None,
                 fixed_token: str | None = None, token_period: int = 3600,
                 connect_timeout: float = 5.0, read_timeout: float = 30.0,
                 token_cache: AccessTokenCache | None = None, pool_size: int = 32, observer=None):
        if not fixed_token and not (access_key and secret_key):
            raise ValueError("AdvanceClient needs an access key and secret key, or a fixed token")
        self.base_url = base_url.rstrip("/")
        self._access_key = access_key
        self._secret_key = secret_key
        self._fixed_token = fixed_token
        self.token_period = token_period
        self.timeout = (connect_timeout, read_timeout)
        self._tokens = token_cache or _shared_token_cache
        # Told of every call before it is sent and after it ends (the portal's audit trail):
        # observer.started(step, fields) -> handle; observer.finished(handle, answer, error, latency_ms).
        self.observer = observer
        self._session = requests.Session()
        # Retry only failures to connect: the request never left, so a repeat cannot
        # add a face twice. Nothing that may have reached the vendor is replayed here.
        retry = Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0,
                      backoff_factor=0.2, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=pool_size)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def __repr__(self) -> str:  # never show keys or tokens
        return f"<AdvanceClient {self.base_url}>"

    # -- the API ---------------------------------------------------------------

    def add_face(self, face_set_id: str, image: bytes, *, filename: str, mime_type: str,
                 details: dict | None = None) -> VendorResponse:
        """Add a face; ``data`` of the answer is the new face's id.

        ``details`` holds the optional fields by their API names (ADD_FACE_DETAILS).
        """
        details = details or {}
        unknown = set(details) - set(ADD_FACE_DETAILS)
        if unknown:
            raise ValueError(f"not Add Face fields: {sorted(unknown)}")
        fields = {"faceSetId": face_set_id, **details}
        return self._call("add_face", ADD_FACE_PATH, fields, ("faceImage", filename, image, mime_type))

    def search(self, face_set_id: str, image: bytes, *, filename: str, mime_type: str,
               top_k: int | None = None, threshold: float | None = None) -> VendorResponse:
        """Search a face set (1:N); ``data`` holds ``faceReferences``."""
        fields = {"faceSetId": face_set_id, "topK": top_k, "threshold": threshold}
        return self._call("search", SEARCH_PATH, fields, ("faceImage", filename, image, mime_type))

    def generate_token(self) -> tuple[str, float]:
        """A fresh token and its expiry (epoch seconds)."""
        timestamp = str(int(time.time() * 1000))
        body = {
            "accessKey": self._access_key,
            "timestamp": timestamp,
            "signature": sign(self._access_key, self._secret_key, timestamp),
            "periodSecond": self.token_period,
        }
        answer = self._post("token", TOKEN_PATH, {}, json=body)
        data = answer.data if isinstance(answer.data, dict) else {}
        if answer.code != "SUCCESS" or not data.get("token"):
            raise VendorError(answer, step="token")
        expires_ms = data.get("expiredTime") or (time.time() + self.token_period) * 1000
        return str(data["token"]), float(expires_ms) / 1000

    # -- plumbing --------------------------------------------------------------

    def _token_key(self) -> tuple:
        return (self.base_url, self._access_key)

    def _token(self) -> str:
        if self._fixed_token:
            return self._fixed_token
        return self._tokens.get(self._token_key(), self.generate_token)

    def _call(self, step: str, path: str, fields: dict, image_part: tuple) -> VendorResponse:
        form = {key: str(value) for key, value in fields.items() if value not in (None, "")}
        name, filename, content, mime_type = image_part
        files = {name: (filename, content, mime_type)}
        token = self._token()
        answer = self._post(step, path, form, data=form, files=files, headers={TOKEN_HEADER: token})
        if answer.code == "IAM_FAILED" and not self._fixed_token:
            # The token may have expired or been revoked early. IAM_FAILED means the
            # call was refused, not done, so one repeat with a fresh token is safe.
            self._tokens.invalidate(self._token_key(), token)
            token = self._token()
            answer = self._post(step, path, form, data=form, files=files, headers={TOKEN_HEADER: token})
        if answer.code != "SUCCESS":
            raise VendorError(answer, step=step)
        return answer

    def _post(self, step: str, path: str, fields: dict, **kwargs) -> VendorResponse:
        """One HTTP call, told to the observer before and after; ``fields`` are what it may record."""
        handle = self.observer.started(step, fields) if self.observer else None
        started = time.monotonic()
        answer = error = None
        try:
            answer = self._send(step, path, **kwargs)
            return answer
        except TransportError as failure:
            error = failure
            raise
        finally:
            elapsed_ms = (time.monotonic() - started) * 1000
            if answer is not None:
                log.info("vendor %s -> HTTP %s %s txn=%s pricing=%s %.0f ms", step, answer.http_status,
                         answer.code, answer.transaction_id, answer.pricing_strategy, elapsed_ms)
            else:
                log.warning("vendor %s failed: %s (%.0f ms)", step, error or "interrupted", elapsed_ms)
            if self.observer:
                self.observer.finished(handle, answer, error, elapsed_ms)

    def _send(self, step: str, path: str, **kwargs) -> VendorResponse:
        url = self.base_url + path
        try:
            response = self._session.post(url, timeout=self.timeout, **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise TransportError("timeout", "the vendor did not accept the connection in time",
                                 may_have_reached=False, step=step) from None
        except requests.exceptions.ReadTimeout:
            raise TransportError("timeout", f"no answer within {self.timeout[1]:g} s",
                                 may_have_reached=True, step=step) from None
        except requests.exceptions.ConnectionError as exc:
            refused = _never_connected(exc)
            raise TransportError("connection", "could not reach the vendor" if refused
                                 else "the connection was cut before the answer",
                                 may_have_reached=not refused, step=step) from None
        except requests.exceptions.RequestException as exc:
            raise TransportError("connection", type(exc).__name__, may_have_reached=True, step=step) from None
        return self._envelope(step, response)

    @staticmethod
    def _envelope(step: str, response: requests.Response) -> VendorResponse:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and body.get("code"):
            return VendorResponse.from_http(response, body)
        status = response.status_code
        if status == 429:
            raise TransportError("rate_limited", "HTTP 429 Too Many Requests", may_have_reached=False,
                                 step=step, http_status=status, retry_after=retry_after)
        if status >= 400:
            raise TransportError("http_status", f"HTTP {status} {response.reason or ''}".strip(),
                                 may_have_reached=status >= 500, step=step, http_status=status,
                                 retry_after=retry_after)
        raise TransportError("not_json", "the answer was not the vendor's JSON envelope",
                             may_have_reached=True, step=step, http_status=status)
