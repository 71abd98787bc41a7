"""What the fuzz counts as a finding, and how it reads the log: every error the portal logs, with the
exception and the place in the portal's own code that raised it."""
from __future__ import annotations

import logging
import re
import threading
import traceback
from dataclasses import dataclass, field

# The test server's own refusals of a request it cannot parse (414, 431, 400): not the portal's errors.
SERVER_REFUSAL = re.compile(r"^werkzeug: .*\bcode 4\d\d, message ")


@dataclass
class Finding:
    kind: str  # server error, unhandled exception, secret in answer, no answer
    status: int
    detail: str  # the exception and where the portal raised it, the secret's name, the connection error
    reproduction: str  # the first request that showed it
    routes: dict = field(default_factory=dict)  # "METHOD rule" -> how many requests showed it

    def __str__(self):
        routes = ", ".join(f"{route} ({count}x)" for route, count in list(self.routes.items())[:8])
        more = f" and {len(self.routes) - 8} more" if len(self.routes) > 8 else ""
        return f"{self.kind} -> {self.status}: {self.detail}\n    on {routes}{more}\n    e.g. {self.reproduction}"


def where(frames) -> str:
    """The deepest frame in the portal's own code (else the last one): file and line."""
    ours = [frame for frame in frames if "/facesite/" in frame.filename] or frames[-1:]
    return f"{ours[-1].filename.rsplit('/facesite/', 1)[-1]}:{ours[-1].lineno}" if ours else "?"


def exception_line(record) -> str:
    """A record's message with the exception it carries (as an object, or as traceback text)."""
    lines = record.getMessage().splitlines() or [""]
    line = f"{record.name}: {lines[0]}"
    if record.exc_info:
        line += " | " + traceback.format_exception_only(*record.exc_info[:2])[-1].strip()
        line += " | at " + where(traceback.extract_tb(record.exc_info[2]))
    elif len(lines) > 1 and "Traceback" in lines[1]:  # werkzeug writes the traceback into the message
        files = [text for text in lines if text.strip().startswith('File "')]
        ours = [text for text in files if "/facesite/" in text] or files[-1:]
        line += " | " + lines[-1].strip() + (" | at " + ours[-1].strip() if ours else "")
    return line


class LogWatch(logging.Handler):
    """Every log record at ERROR or above, or carrying an exception, from any thread; and any
    exception that escapes a thread."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[str] = []
        self._lock = threading.Lock()

    def emit(self, record):
        if record.levelno < logging.ERROR and not record.exc_info:
            return
        line = exception_line(record)
        if SERVER_REFUSAL.search(line):
            return
        with self._lock:
            self.records.append(line)

    def thread_died(self, args):
        self.records.append(f"thread {args.thread.name if args.thread else '?'}: "
                            f"{''.join(traceback.format_exception_only(args.exc_type, args.exc_value)).strip()}")
