"""One HTTP/1.1 request arriving on a connection, held until it is complete.

h11 (a sans-I/O HTTP/1.1 parser) says where the request ends, whatever its framing (Content-Length,
chunked); the bytes themselves are kept as they came and gunicorn's own parser reads them again in
a worker thread, so what the portal sees is exactly what gunicorn would have read from the socket.
"""
from __future__ import annotations

import html
import tempfile
import time

import h11
from gunicorn.http.parser import RequestParser
from gunicorn.http.unreader import Unreader

from facesite.serving import MB, ServingLimits

# A request is kept in memory up to this size, then in a temporary file while the rest arrives.
IN_MEMORY_BYTES = 64 * 1024


class Refusal(Exception):
    """A request the serving layer answers itself, before any thread of the portal sees it."""

    def __init__(self, status: int, title: str, advice: str, retry_after: int | None = None):
        super().__init__(f"{status} {title}")
        self.status, self.title, self.advice, self.retry_after = status, title, advice, retry_after

    def response(self) -> bytes:
        title, advice = html.escape(self.title, quote=False), html.escape(self.advice, quote=False)
        body = (f"<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title>"
                f"<h1>{title}</h1><p>{advice}</p></html>").encode()
        extra = f"Retry-After: {self.retry_after}\r\n" if self.retry_after else ""
        return (f"HTTP/1.1 {self.status} {self.title}\r\nContent-Type: text/html; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\n{extra}Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
                "Connection: close\r\n\r\n").encode() + body


def too_slow() -> Refusal:
    return Refusal(408, "The request arrived too slowly",
                   "The connection was so slow that the portal stopped waiting for the rest of the request. "
                   "Check the network connection, then send the form again.")


class BufferBudget:
    """Bytes of request bodies one worker process holds at once. Used from its event loop only."""

    def __init__(self, limit: int):
        self.limit, self.used = limit, 0

    def take(self, size: int) -> bool:
        if self.used + size > self.limit:
            return False
        self.used += size
        return True

    def give_back(self, size: int) -> None:
        self.used -= size


class BufferedUnreader(Unreader):
    """What gunicorn's parser reads instead of the socket: the request as it arrived."""

    def __init__(self, raw):
        super().__init__()
        self.raw = raw

    def chunk(self, size_hint=None):
        return self.raw.read(min(max(size_hint or 0, 8192), MB))


class IncomingRequest:
    """The bytes of one request so far, its deadline, and what it may still take."""

    def __init__(self, limits: ServingLimits, budget: BufferBudget, idle_until: float | None = None,
                 spool_dir: str | None = None):
        self.limits, self.budget = limits, budget
        self.parser = h11.Connection(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
        self.raw = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, dir=spool_dir)
        # A new connection has the header timeout from its opening; a kept-alive one may stay
        # silent until idle_until, and has the header timeout from its next first byte.
        self.kept_alive = idle_until is not None
        self.header_clock_running = not self.kept_alive
        self.deadline = idle_until if idle_until is not None else time.monotonic() + limits.header_timeout
        self.received = 0
        self.has_headers = False
        self.body_received = 0
        self.body_received_by_last_check = 0  # the minimum rate is checked once per body_timeout
        self.reserved = 0  # bytes taken from the budget: the body received so far
        self.wants_continue = False  # the client waits for "100 Continue" before sending its body
        self.complete = False
        self.pipelined = b""  # what came after this request: the start of the next one

    @property
    def is_idle(self) -> bool:
        """Nothing of this request yet."""
        return self.received == 0

    @property
    def between_requests(self) -> bool:
        """A kept-alive connection whose next request has not begun (as far as has been read)."""
        return self.kept_alive and self.is_idle

    @property
    def in_headers(self) -> bool:
        """A new connection, or a next request begun, whose headers are not all here."""
        return not self.has_headers and not self.between_requests

    def feed(self, data: bytes) -> bool:
        """Take bytes from the client; True once the request is complete. Raises Refusal."""
        now = time.monotonic()
        if not self.header_clock_running:
            self.header_clock_running, self.deadline = True, now + self.limits.header_timeout
        self.received += len(data)
        self.raw.write(data)
        self.parser.receive_data(data)
        while True:
            try:
                event = self.parser.next_event()
            except h11.RemoteProtocolError as error:
                raise self._unreadable(error.error_status_hint) from None
            if event is h11.NEED_DATA:
                return False
            if isinstance(event, h11.Request):
                self._headers_arrived(event, now)
            elif isinstance(event, h11.Data):
                self._body_arrived(len(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self._finish()
                return True

    def overdue(self, now: float) -> bool:
        """Past its deadline. A body gets body_timeout seconds at a time, each time it brought at
        least body_min_rate bytes a second over the last ones: a slow but moving upload goes
        through, one that bursts and then stalls does not sit on what it sent."""
        if now < self.deadline:
            return False
        window = self.limits.body_timeout
        moved = self.body_received - self.body_received_by_last_check
        if self.has_headers and moved >= self.limits.body_min_rate * window:
            self.body_received_by_last_check, self.deadline = self.body_received, now + window
            return False
        return True

    def _headers_arrived(self, request: h11.Request, now: float) -> None:
        self.has_headers, self.deadline = True, now + self.limits.body_timeout
        mount = self.limits.mount_path
        if mount and not request.target.decode("latin-1").startswith(mount):
            raise Refusal(404, "Not found", f"This address is not part of the portal, which is under {mount}/.")
        names = [name.decode("latin-1") for name, _ in request.headers]  # h11 gives them in lower case
        if any(names.count(name) > 1 for name in self.limits.single_headers):
            raise Refusal(400, "A header came more than once",
                          "The request carried a sign-on header twice, which a sign-on proxy never sends. Open "
                          "the portal again through the company's sign-on.")
        self.wants_continue = self.parser.they_are_waiting_for_100_continue
        declared = dict(request.headers).get(b"content-length", b"").strip()
        if declared.isdigit() and int(declared) > self.limits.max_body_bytes:
            raise self._too_large()

    def _body_arrived(self, size: int) -> None:
        self.body_received += size
        if self.body_received > self.limits.max_body_bytes:  # chunked: no length announced
            raise self._too_large()
        # Counted as it arrives, not as announced: a client must send what it makes the portal hold.
        if not self.budget.take(size):
            raise Refusal(503, "The portal is busy receiving uploads",
                          "Too many large uploads are arriving at once. Wait a minute, then send the form again.",
                          retry_after=60)
        self.reserved += size

    def _too_large(self) -> Refusal:
        return Refusal(413, "That upload is too large",
                       f"The portal accepts uploads up to {self.limits.max_body_bytes // MB} MB. Go back, choose "
                       "fewer or smaller files and send the form again.")

    def _finish(self) -> None:
        trailing, _ = self.parser.trailing_data
        self.pipelined = bytes(trailing)
        self.raw.truncate(self.received - len(trailing))
        self.raw.seek(0)
        self.wants_continue = False
        self.complete = True

    @staticmethod
    def _unreadable(status: int) -> Refusal:
        if status == 431:
            return Refusal(431, "Request headers too large",
                           "The request's headers are larger than the portal accepts. Clear this site's cookies, "
                           "then try again.")
        if status == 501:
            return Refusal(501, "Transfer encoding not supported", "Send the request again without compression.")
        return Refusal(400, "Bad request", "The portal could not read this request. Reload the page and try again.")

    def request_parser(self, cfg, client) -> RequestParser:
        """gunicorn's parser over the complete request (for the worker thread)."""
        parser = RequestParser(cfg, (), client)
        parser.unreader = BufferedUnreader(self.raw)
        return parser

    def read_to_the_end(self, parser: RequestParser) -> bool:
        """Whether gunicorn's parser used exactly the bytes h11 framed: only then is the
        connection's next byte known to start the next request."""
        return not parser.unreader.buf.getvalue() and self.raw.read(1) == b""

    def close(self) -> None:
        self.budget.give_back(self.reserved)
        self.reserved = 0
        self.raw.close()
