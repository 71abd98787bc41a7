"""A stand-in vendor that answers every call with SUCCESS after a fixed delay, for the benchmarks.

Imported by a benchmark, or run on its own (another process, so its work does not share the
measured process's interpreter): python benchmarks/delayed_upstream.py --delay 0.3 --port 9200
"""
from __future__ import annotations

import argparse
import itertools
import json
import logging
import threading
import time

from werkzeug.serving import make_server

TOKEN_PATH = "/openapi/auth/ticket/v1/generate-token"


class DelayedUpstream:
    """Answers every vendor call with SUCCESS after a fixed delay (a stand-in for a slow vendor)."""

    def __init__(self, delay: float, port: int = 0, background: bool = True):
        face_ids = itertools.count(1)

        def app(environ, start_response):
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            if environ["PATH_INFO"] == TOKEN_PATH:
                data = {"token": "bench", "expiredTime": int((time.time() + 3600) * 1000)}
            else:
                time.sleep(delay)
                data = str(next(face_ids))
            body = json.dumps({"code": "SUCCESS", "message": "OK", "data": data, "transactionId": "t",
                               "pricingStrategy": "FREE"}).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]

        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.server.request_queue_size = 256
        self.url = f"http://127.0.0.1:{self.server.port}"
        if background:
            threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def serve_forever(self) -> None:
        self.server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--port", type=int, required=True)
    arguments = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line per call drowns the figures
    upstream = DelayedUpstream(arguments.delay, port=arguments.port, background=False)
    print(f"delayed upstream on {upstream.url}", flush=True)
    upstream.serve_forever()
