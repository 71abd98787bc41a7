"""The vendor's answer: the common JSON envelope, and the typed errors a call can end in."""
from __future__ import annotations

import email.utils
import re
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import requests


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


class TransportFailure(StrEnum):
    """How a call can fail without a usable answer (recorded in the audit trail as TRANSPORT_<NAME>)."""

    TIMEOUT = "timeout"
    CONNECTION = "connection"
    HTTP_STATUS = "http_status"  # the vendor's gateway answered an HTTP error without the envelope
    RATE_LIMITED = "rate_limited"  # HTTP 429 without the envelope
    NOT_JSON = "not_json"  # an answer that is not the envelope, or SUCCESS without a usable result
    REDIRECT = "redirect"

    @property
    def audit_code(self) -> str:
        return f"TRANSPORT_{self.name}"


class TransportError(AdvanceError):
    """No usable answer: timeout, refused connection, HTTP error, or a body that is not the envelope.

    ``may_have_reached`` is True when the vendor may have acted on the request
    (it was sent in full before the failure), so it must not be replayed blindly.
    """

    def __init__(self, kind: TransportFailure, detail: str, *, may_have_reached: bool, step: str = "call",
                 http_status: int | None = None, retry_after: int | None = None):
        super().__init__(f"{kind}: {detail}")
        self.kind = TransportFailure(kind)
        self.detail = detail
        self.may_have_reached = may_have_reached
        self.step = step
        self.http_status = http_status
        self.retry_after = retry_after
