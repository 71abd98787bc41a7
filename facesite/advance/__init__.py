"""Client for the ADVANCE.AI Face Search API: HTTP, access tokens and the API's JSON.

The only package that knows the vendor's paths and envelope. It knows nothing of
Flask or forms, raises typed errors, and never puts a key or token into an
exception, a log line or a repr. The sandbox upstream is reached through this
same code. It sends only where it was told (transport.py): https unless the vendor
is on this machine, no redirect followed, no proxy from the environment unless asked.
"""
from __future__ import annotations

import logging
import time

import requests
import urllib3

from facesite.advance.answers import AddedFace, FaceRect, FaceReference, SearchAnswer, is_face_id  # noqa: F401
from facesite.advance.envelope import (AdvanceError, TransportError, TransportFailure, VendorError,  # noqa: F401
                                       VendorResponse, parse_retry_after)
from facesite.advance.tokens import AccessTokenCache, sign  # noqa: F401
from facesite.advance.transport import base_url_problem, is_loopback, refuse_redirect, vendor_session  # noqa: F401

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
                 token_cache: AccessTokenCache | None = None, pool_size: int = 32, observer=None,
                 use_env_proxy: bool = False, score_field: str = "similarity"):
        if not fixed_token and not (access_key and secret_key):
            raise ValueError("AdvanceClient needs an access key and secret key, or a fixed token")
        problem = base_url_problem(base_url)
        if problem:
            raise ValueError(f"the vendor's base URL {problem}")
        self.base_url = base_url.rstrip("/")
        self._access_key = access_key
        self._secret_key = secret_key
        self._fixed_token = fixed_token
        self.token_period = token_period
        self.score_field = score_field  # the contract does not name the field of a match's score
        self.timeout = (connect_timeout, read_timeout)
        self._tokens = token_cache or _shared_token_cache
        # Told of every call before it is sent and after it ends (the portal's audit trail):
        # observer.started(step, fields) -> handle; observer.finished(handle, answer, error, latency_ms);
        # and, when it has one, observer.token_refreshed(succeeded) after each token fetch.
        self.observer = observer
        self._session = vendor_session(pool_size=pool_size, use_env_proxy=use_env_proxy)

    def __repr__(self) -> str:  # never show keys or tokens
        return f"<AdvanceClient {self.base_url}>"

    # -- the API ---------------------------------------------------------------

    def add_face(self, face_set_id: str, image: bytes, *, filename: str, mime_type: str,
                 details: dict | None = None) -> AddedFace:
        """Add a face; the answer holds the new face's id.

        ``details`` holds the optional fields by their API names (ADD_FACE_DETAILS).
        """
        details = details or {}
        unknown = set(details) - set(ADD_FACE_DETAILS)
        if unknown:
            raise ValueError(f"not Add Face fields: {sorted(unknown)}")
        fields = {"faceSetId": face_set_id, **details}
        answer = self._call("add_face", ADD_FACE_PATH, fields, ("faceImage", filename, image, mime_type))
        if not is_face_id(answer.data):
            # "SUCCESS" with no usable face id: the face may be added, but nothing can refer to it.
            raise TransportError(TransportFailure.NOT_JSON, f"the vendor said {answer.code} but sent no face id",
                                 may_have_reached=True, step="add_face", http_status=answer.http_status)
        return AddedFace.from_envelope(answer)

    def search(self, face_set_id: str, image: bytes, *, filename: str, mime_type: str,
               top_k: int | None = None, threshold: float | None = None) -> SearchAnswer:
        """Search a face set (1:N); the answer's faces come best first."""
        fields = {"faceSetId": face_set_id, "topK": top_k, "threshold": threshold}
        answer = self._call("search", SEARCH_PATH, fields, ("faceImage", filename, image, mime_type))
        return SearchAnswer.from_envelope(answer, self.score_field)

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
        return self._tokens.get(self._token_key(), self.generate_token, self._token_refreshed)

    def _token_refreshed(self, succeeded: bool) -> None:
        if self.observer and hasattr(self.observer, "token_refreshed"):
            self.observer.token_refreshed(succeeded)

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
            response = self._session.post(url, timeout=self.timeout, allow_redirects=False, **kwargs)
        except requests.exceptions.ConnectTimeout:
            raise TransportError(TransportFailure.TIMEOUT, "the vendor did not accept the connection in time",
                                 may_have_reached=False, step=step) from None
        except requests.exceptions.ReadTimeout:
            raise TransportError(TransportFailure.TIMEOUT, f"no answer within {self.timeout[1]:g} s",
                                 may_have_reached=True, step=step) from None
        except requests.exceptions.ConnectionError as exc:
            refused = _never_connected(exc)
            raise TransportError(TransportFailure.CONNECTION, "could not reach the vendor" if refused
                                 else "the connection was cut before the answer",
                                 may_have_reached=not refused, step=step) from None
        except requests.exceptions.RequestException as exc:
            raise TransportError(TransportFailure.CONNECTION, type(exc).__name__, may_have_reached=True, step=step) from None
        if 300 <= response.status_code < 400:
            raise refuse_redirect(step, response)
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
            raise TransportError(TransportFailure.RATE_LIMITED, "HTTP 429 Too Many Requests", may_have_reached=False,
                                 step=step, http_status=status, retry_after=retry_after)
        if status >= 400:
            raise TransportError(TransportFailure.HTTP_STATUS, f"HTTP {status} {response.reason or ''}".strip(),
                                 may_have_reached=status >= 500, step=step, http_status=status,
                                 retry_after=retry_after)
        raise TransportError(TransportFailure.NOT_JSON, "the answer was not the vendor's JSON envelope",
                             may_have_reached=True, step=step, http_status=status)
