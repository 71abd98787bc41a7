"""Real HTTP servers on loopback for the tests: the sandbox, the portal, and a scripted fake vendor."""
from __future__ import annotations

import io
import threading
import time
from pathlib import Path

from flask import Flask, jsonify, request
from werkzeug.serving import make_server


class ServerThread:
    """Serve a WSGI app on 127.0.0.1 on a free port, in a background thread."""

    def __init__(self, app, port: int = 0):
        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def envelope(code="SUCCESS", message="OK", data=None, extra=None, transaction_id="txn-fake-1", pricing="FREE"):
    return {"code": code, "message": message, "data": data, "extra": extra,
            "transactionId": transaction_id, "pricingStrategy": pricing}


class FakeVendor:
    """A vendor whose answers each test scripts: ``fake.add_face.append(answer)``.

    An answer is a dict (sent as JSON, HTTP 200), a (body, status, headers)
    tuple sent as-is, or a callable returning either. When a path's script is
    empty the fake answers SUCCESS. Every request is recorded.
    """

    def __init__(self):
        self.token = []
        self.add_face = []
        self.search = []
        self.requests: list[dict] = []
        self.tokens_issued = 0
        app = Flask("fake_vendor")

        @app.post("/openapi/auth/ticket/v1/generate-token")
        def token():
            self.tokens_issued += 1
            self._record("token")
            return self._answer(self.token, envelope(data={
                "token": f"fake-token-{self.tokens_issued}", "expiredTime": int((time.time() + 3600) * 1000)}))

        @app.post("/intl/openapi/face-search/facereferences")
        def add_face():
            self._record("add_face")
            return self._answer(self.add_face, envelope(data="101"))

        @app.post("/intl/openapi/face-search/search")
        def search():
            self._record("search")
            return self._answer(self.search, envelope(data={"total": 0, "faceReferences": []}, pricing="PAY"))

        self.thread = ServerThread(app)
        self.url = self.thread.url

    def _record(self, name):
        self.requests.append({"call": name, "at": time.monotonic(), "headers": dict(request.headers),
                              "form": request.form.to_dict(),
                              "json": request.get_json(silent=True)})

    @staticmethod
    def _answer(script, default):
        answer = script.pop(0) if script else default
        if callable(answer):
            answer = answer()
        if isinstance(answer, dict):
            return jsonify(answer)
        return answer

    def calls(self, name):
        return [r for r in self.requests if r["call"] == name]

    def stop(self):
        self.thread.stop()


def reset_connection():
    """A fake answer: cut the TCP connection without a response, as a crashed gateway does."""
    import socket
    import struct

    sock = request.environ["werkzeug.socket"]
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.shutdown(socket.SHUT_RDWR)  # other handles on the socket keep it open; shutdown ends the connection
    return "", 500  # never reaches the client


class SlowUpstream:
    """WSGI middleware: every face call waits ``seconds`` before the upstream handles it, as a
    distant vendor does. The request has fully arrived by then: a caller that dies while
    waiting leaves a face that is added anyway."""

    def __init__(self, app, seconds: float):
        self.app, self.seconds = app, seconds

    def __call__(self, environ, start_response):
        if "/face-search/" in environ.get("PATH_INFO", ""):
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(
                int(environ.get("CONTENT_LENGTH") or 0)))
            time.sleep(self.seconds)
        return self.app(environ, start_response)


ROOT = Path(__file__).resolve().parents[2]


def procfile_command(kind: str) -> list[str]:
    """The Procfile's line for ``kind`` (web, worker), exactly as the platform runs it."""
    import shlex

    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith(kind + ":"))
    return shlex.split(line.split(":", 1)[1])


def start_process(command: list[str], env: dict):
    """A process of the portal in its own process group (so it can be killed with all its children),
    its output collected in ``process.log_lines``."""
    import os
    import subprocess
    import sys

    env = {**env, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.path.dirname(sys.executable)}:{env.get('PATH', '')}"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)
    process.log_lines = []
    threading.Thread(target=lambda: process.log_lines.extend(process.stdout), daemon=True).start()
    return process


def kill_process(process, sig=None) -> None:
    """Send ``sig`` (default SIGKILL: no goodbye) to the process and all its children, and reap it."""
    import os
    import signal

    try:
        os.killpg(process.pid, sig or signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=60)  # a SIGTERM may take gunicorn's graceful_timeout (30 s) and the sandbox's stop
