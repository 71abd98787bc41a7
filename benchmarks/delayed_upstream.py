"""A stand-in vendor that answers every call with SUCCESS after a fixed delay, for the benchmarks.

Add Face answers a new face id; Search answers one match (face "1"); the token call and the sandbox's
list of face sets (so the portal adopts the face set "demo" into its catalogue) answer at once. It
counts the calls it received, by kind, so a benchmark can tell an enrolment lost on the way.

Imported by a benchmark, or run on its own (another process, so its work does not share the
measured process's interpreter): python benchmarks/delayed_upstream.py --delay 0.3 --port 9200
"""
from __future__ import annotations

import argparse
import collections
import itertools
import json
import logging
import threading
import time

from werkzeug.serving import make_server

TOKEN_PATH = "/openapi/auth/ticket/v1/generate-token"
SEARCH_PATH = "/intl/openapi/face-search/search"
FACE_SETS_PATH = "/sandbox/face-sets"
# The sandbox's free face count, which a sandbox-mode portal asks before each enrolment: one face, at once
# (a vendor deployment makes no such call; the portal's cost of sending it stays in its CPU figure).
FACES_PATH = "/sandbox/faces"
ONE_FACE = {"faces": [{"left": 100, "top": 100, "width": 200, "height": 200}]}
FACE_SETS = {"faceSets": [{"id": "demo", "name": "Benchmark faces"}]}
ONE_MATCH = {"faceReferences": [{"faceId": "1", "similarity": 91.5, "faceSetId": "demo", "name": "Bench Mark"}]}


class DelayedUpstream:
    """Answers every vendor call with SUCCESS after ``delay`` seconds (a stand-in for a slow vendor).
    ``delay`` may be changed while it serves; ``received`` counts calls by kind (token, add_face, search)."""

    def __init__(self, delay: float, port: int = 0, background: bool = True):
        self.delay = delay
        self.received = collections.Counter()
        face_ids = itertools.count(1)
        counting = threading.Lock()

        def app(environ, start_response):
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            path = environ["PATH_INFO"]
            if path == FACE_SETS_PATH:
                return answer(start_response, FACE_SETS)
            if path == FACES_PATH:
                return answer(start_response, ONE_FACE)
            kind = {TOKEN_PATH: "token", SEARCH_PATH: "search"}.get(path, "add_face")
            with counting:
                self.received[kind] += 1
            if kind == "token":
                data = {"token": "bench", "expiredTime": int((time.time() + 3600) * 1000)}
            else:
                time.sleep(self.delay)
                data = ONE_MATCH if kind == "search" else str(next(face_ids))
            return answer(start_response, {"code": "SUCCESS", "message": "OK", "data": data, "transactionId": "t",
                                           "pricingStrategy": "PAY" if kind == "search" else "FREE"})

        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.server.request_queue_size = 1024
        self.url = f"http://127.0.0.1:{self.server.port}"
        if background:
            threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve_forever(self) -> None:
        self.server.serve_forever()


def answer(start_response, document: dict) -> list[bytes]:
    body = json.dumps(document).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per call drowns the figures
    upstream = DelayedUpstream(arguments.delay, port=arguments.port, background=False)
    print(f"delayed upstream on {upstream.url}", flush=True)
    upstream.serve_forever()
