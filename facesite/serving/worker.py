"""The gunicorn worker of the Procfile's web process: gunicorn's threaded worker (same threads,
hooks, signals and graceful stop) whose event loop reads each request in full, within deadlines,
before handing it to a thread. See facesite/serving/__init__.py for why."""
from __future__ import annotations

import errno
import resource
import selectors
import socket
import time
from collections import Counter
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

from facesite.serving import ServingLimits
from facesite.serving.incoming import BufferBudget, IncomingRequest, Refusal, too_slow

RECEIVE_BYTES = 64 * 1024
# After a refusal the connection is read and discarded for a while before it closes, so that a
# client still sending its body reads the answer instead of a connection reset.
LINGER_SECONDS = 5.0
# File descriptors kept for everything but client connections (database, vendor, log files).
SPARE_FILES = 512
REPORT_EVERY_SECONDS = 60


class BufferingWorker(ThreadWorker):
    limits = ServingLimits()  # gunicorn.conf.py binds the configured limits (buffering_worker, below)

    @classmethod
    def check_config(cls, cfg, log):
        # The event loop reads plain HTTP/1.x; TLS and HTTP/2 end at the platform's router.
        if cfg.is_ssl or cfg.http2_cleartext != "off" or "h2" in cfg.http_protocols or cfg.protocol != "http":
            raise RuntimeError("the buffering worker serves plain HTTP/1.x only: no certfile, HTTP/2 or uWSGI")

    def init_process(self):
        self.buffering: dict[TConn, IncomingRequest] = {}  # in order of arrival: the oldest first
        self.lingering: dict[TConn, float] = {}  # refused, answered: when to close
        self.budget = BufferBudget(self.limits.max_buffered_bytes)
        self.dropped: Counter[str] = Counter()
        self.next_report = time.monotonic() + REPORT_EVERY_SECONDS
        self.worker_connections = self._connections_the_file_limit_allows(self.cfg.worker_connections)
        # gunicorn's own count of kept-alive connections stays empty here (they wait in self.buffering,
        # under the cap above), so its limit on them must never turn keep-alive off.
        self.max_keepalived = self.worker_connections
        super().init_process()  # runs the event loop

    def _connections_the_file_limit_allows(self, wanted: int) -> int:
        """Raise this process's open-file limit for the connection cap (each connection may also
        hold a temporary file), or lower the cap to what the hard limit allows."""
        needed = 2 * wanted + SPARE_FILES
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < needed:
            soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        allowed = max(1, (soft - SPARE_FILES) // 2)
        if allowed < wanted:
            self.log.warning("open-file limit %d: at most %d connections per worker, not %d", soft, allowed, wanted)
        return min(wanted, allowed)

    # --- connections arriving ------------------------------------------------------------------

    def accept(self, listener):
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno in (errno.EMFILE, errno.ENFILE):
                self._make_room()
            elif error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, client, address, listener.getsockname())
        if self.nr_conns >= self.worker_connections:
            self._make_room()
        self._wait_for_request(conn, IncomingRequest(self.limits, self.budget, spool_dir=self.cfg.tmp_upload_dir))

    def _make_room(self) -> None:
        """At the cap a new connection still gets in: a kept-alive connection with no request on
        its way goes, else the one that has spent longest without finishing its headers (a person's
        browser sends them at once). Connections sending a body, or being answered, stay."""
        waiting = self.buffering.items()
        victim = next((conn for conn, incoming in waiting if incoming.between_requests and self._nothing_waiting(conn)),
                      None)
        if victim is None:
            victim = next((conn for conn, incoming in waiting if incoming.in_headers), None)
        if victim is not None:
            self.dropped["at the connection cap"] += 1
            self._close(victim)

    @staticmethod
    def _nothing_waiting(conn: TConn) -> bool:
        """No byte waits unread (closing would reset a request the loop has not read yet)."""
        try:
            return not conn.sock.recv(1, socket.MSG_PEEK)  # b"": the client has gone
        except OSError:  # nothing to read yet (BlockingIOError), or a broken connection
            return True

    def _wait_for_request(self, conn: TConn, incoming: IncomingRequest, pipelined: bytes = b"") -> None:
        self.buffering[conn] = incoming
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))
        if pipelined:
            self._take(conn, pipelined)

    def _on_readable(self, conn: TConn, _sock) -> None:
        if conn not in self.buffering:
            return  # closed earlier in this same round of events
        try:
            data = conn.sock.recv(RECEIVE_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self._take(conn, data)
        else:  # the client went away
            self._close(conn)

    def _take(self, conn: TConn, data: bytes) -> None:
        incoming = self.buffering[conn]
        try:
            complete = incoming.feed(data)
        except Refusal as refusal:
            self.dropped[f"refused with {refusal.status}"] += 1
            self._refuse(conn, refusal)
            return
        if incoming.wants_continue:
            incoming.wants_continue = False
            self._send_quietly(conn, b"HTTP/1.1 100 Continue\r\n\r\n")
        if complete:
            self._hand_over(conn)

    def _hand_over(self, conn: TConn) -> None:
        """The request is all here: now, and only now, a thread runs the portal on it."""
        incoming = self.buffering.pop(conn)
        self.poller.unregister(conn.sock)
        conn.incoming = incoming
        conn.parser = incoming.request_parser(self.cfg, conn.client)
        conn.data_ready = True  # gunicorn's thread must not wait for the socket: the request is read
        self.enqueue_req(conn)

    # --- in a worker thread ---------------------------------------------------------------------

    def handle_request(self, req, conn):
        # The body is already here: a "100 Continue" now would only confuse the client.
        req._expected_100_continue = False
        # A client that stops reading the answer cannot hold this thread for longer than this.
        conn.sock.settimeout(self.limits.send_timeout)
        return super().handle_request(req, conn)

    # --- back on the event loop -------------------------------------------------------------------

    def finish_request(self, conn, fs):
        incoming = conn.incoming
        conn.incoming = None
        try:
            keep_alive = not fs.cancelled() and bool(fs.result())
        except Exception:  # gunicorn's thread has logged what went wrong
            keep_alive = False
        keep_alive = keep_alive and self.alive and incoming.read_to_the_end(conn.parser)
        incoming.close()
        conn.parser = None
        if not keep_alive:
            util.close(conn.sock)  # the request was read in full: nothing unread to reset the answer
            self.nr_conns -= 1
            return
        idle_until = time.monotonic() + self.cfg.keepalive
        self._wait_for_request(conn, IncomingRequest(self.limits, self.budget, idle_until, self.cfg.tmp_upload_dir),
                               incoming.pipelined)

    def murder_pending(self):
        """Called by gunicorn's loop about once a second, while stopping too: deadlines."""
        now = time.monotonic()
        for conn, incoming in list(self.buffering.items()):
            if incoming.is_idle and (now >= incoming.deadline or not self.alive):
                self._close(conn)  # a kept-alive connection with nothing to say, or a silent new one
            elif incoming.overdue(now):
                self.dropped["too slow"] += 1
                self._refuse(conn, too_slow())
        for conn, close_at in list(self.lingering.items()):
            if now >= close_at:
                self._close(conn)
        if now >= self.next_report:
            self.next_report = now + REPORT_EVERY_SECONDS
            if self.dropped:
                self.log.warning("connections cut off in the last minute: %s",
                                 ", ".join(f"{count} {why}" for why, count in self.dropped.items()))
                self.dropped.clear()

    # --- endings ----------------------------------------------------------------------------------

    def _refuse(self, conn: TConn, refusal: Refusal) -> None:
        """Answer the client ourselves, then read and discard for a moment before closing."""
        self.buffering.pop(conn).close()
        self._send_quietly(conn, refusal.response())
        try:
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.lingering[conn] = time.monotonic() + LINGER_SECONDS
        self.poller.modify(conn.sock, selectors.EVENT_READ, partial(self._on_lingering_readable, conn))

    def _on_lingering_readable(self, conn: TConn, _sock) -> None:
        if conn not in self.lingering:
            return  # closed earlier in this same round of events
        try:
            if conn.sock.recv(RECEIVE_BYTES):
                return  # discarded
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            pass
        self._close(conn)  # the client has read the answer and gone

    @staticmethod
    def _send_quietly(conn: TConn, data: bytes) -> None:
        """A short answer on a non-blocking socket: it fits the socket's buffer, or the client is gone."""
        try:
            conn.sock.send(data)
        except OSError:
            pass

    def _close(self, conn: TConn) -> None:
        """Close a connection no thread holds (reading a request, or lingering after a refusal)."""
        incoming = self.buffering.pop(conn, None)
        if incoming is None and self.lingering.pop(conn, None) is None:
            return  # already closed
        if incoming is not None:
            incoming.close()
        try:
            self.poller.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        util.close(conn.sock)
        self.nr_conns -= 1


def buffering_worker(limits: ServingLimits):
    """The gunicorn worker class for ``gunicorn.conf.py``'s ``worker_class``, bound to ``limits``."""
    return type(BufferingWorker.__name__, (BufferingWorker,), {"limits": limits})
