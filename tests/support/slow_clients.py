"""Slow and stalled clients, as a slowloris attack makes them: many connections that each start a
request and then send one byte now and then. Used by tests/test_slow_clients.py and
benchmarks/stalled_connections.py."""
from __future__ import annotations

import itertools
import selectors
import socket
import threading
import time

# A request line, then header bytes one at a time: the headers never end.
HEADERS_START = b"GET /healthz HTTP/1.1\r\nHost: portal\r\n"
HEADER_BYTES = b"X-Padding: 1\r\n"
# Complete headers announcing a body, then body bytes one at a time: the body never ends.
BODY_START = (b"POST /auth/login HTTP/1.1\r\nHost: portal\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              b"Content-Length: 1000000\r\n\r\n")


class StalledClients:
    """``headers`` connections stuck in their headers and ``bodies`` stuck in their body, each
    sending one byte every ``interval`` seconds, driven by one background thread.

    With ``reconnect`` a connection the server cuts off is opened again at once, as an attacker
    would, so the number held open stays at the target. ``cut_off`` counts the connections the
    server closed (or answered, which for these requests also means it gave up on them)."""

    def __init__(self, address: tuple[str, int], headers: int = 0, bodies: int = 0, interval: float = 2.0,
                 reconnect: bool = True):
        self.address, self.interval, self.reconnect = address, interval, reconnect
        self.targets = {"headers": headers, "bodies": bodies}
        self.open = {"headers": 0, "bodies": 0}
        self.opened = self.cut_off = self.refused = 0
        self.answers: list[bytes] = []  # the first bytes of what the server said before closing, if anything
        self._selector = selectors.DefaultSelector()
        self._next_byte = itertools.cycle(HEADER_BYTES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def held(self) -> int:
        return sum(self.open.values())

    def resize(self, headers: int, bodies: int) -> None:
        self.targets = {"headers": headers, "bodies": bodies}

    def wait_until_held(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.held < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.held} of {count} stalled connections open after {timeout} s")
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()
        self._selector.close()

    def _run(self) -> None:
        next_tick = time.monotonic() + self.interval
        while not self._stop.is_set():
            self._open_some()
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self.interval
                self._send_a_byte_each()
            for key, _ in self._selector.select(timeout=0.05):
                self._on_readable(key.fileobj, key.data)

    def _open_some(self, at_most: int = 100) -> None:
        for kind in ("headers", "bodies"):
            while self.open[kind] < self.targets[kind] and at_most > 0:
                at_most -= 1
                if not self.reconnect and self.opened >= sum(self.targets.values()):
                    return
                try:
                    sock = socket.create_connection(self.address, timeout=2)
                    sock.sendall(HEADERS_START if kind == "headers" else BODY_START)
                except OSError:
                    self.refused += 1
                    return
                sock.setblocking(False)
                self._selector.register(sock, selectors.EVENT_READ, kind)
                self.open[kind] += 1
                self.opened += 1

    def _send_a_byte_each(self) -> None:
        byte = bytes([next(self._next_byte)])
        for key in list(self._selector.get_map().values()):
            try:
                key.fileobj.send(byte if key.data == "headers" else b"a")
            except OSError:
                self._closed(key.fileobj, key.data)

    def _on_readable(self, sock: socket.socket, kind: str) -> None:
        try:
            answer = sock.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            answer = b""
        if answer and len(self.answers) < 1000:
            self.answers.append(answer[:100])
        self._closed(sock, kind)

    def _closed(self, sock: socket.socket, kind: str) -> None:
        self._selector.unregister(sock)
        sock.close()
        self.open[kind] -= 1
        self.cut_off += 1
