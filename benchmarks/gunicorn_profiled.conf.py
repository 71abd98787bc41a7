"""gunicorn settings for profile_enrolment.py: the portal's own gunicorn.conf.py, unchanged, plus
pyinstrument in every request's thread. The sampler runs on the thread's CPU clock (time.thread_time),
so waits (the vendor, locks, the disk) cost nothing and what is recorded is CPU. Each worker writes
what it recorded to $PROFILE_DIR/worker-<pid>.json when it exits; facesite/ is not touched.
"""
import collections
import json
import os
import re
import threading
import time
from pathlib import Path

from pyinstrument import Profiler
from pyinstrument.stack_sampler import get_stack_sampler

_portal_settings = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
exec(compile(_portal_settings.read_text(), str(_portal_settings), "exec"))  # the Procfile's own settings
_portal_post_worker_init, _portal_worker_exit = post_worker_init, worker_exit  # noqa: F821 (defined just above)
_IDS = re.compile(r"/[0-9A-Za-z_-]{16,}")  # submission and picture ids: one kind of request, whatever the id


class ProfiledRequests:
    """WSGI middleware: each request profiled in its own thread; (request kind, stack) -> CPU seconds."""

    def __init__(self, app):
        self.app = app
        self.cpu = collections.Counter()
        self.requests = collections.Counter()
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_PROFILE_SKIP"):  # sign-in and warm-up requests: not what is measured
            return self.app(environ, start_response)
        kind = f"{environ['REQUEST_METHOD']} {_IDS.sub('/<id>', environ['PATH_INFO'])}"
        get_stack_sampler().timer_func = time.thread_time  # this thread's CPU clock
        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
        try:
            body = self.app(environ, start_response)
            try:
                chunks = list(body)  # the body is made inside the profile too
            finally:
                getattr(body, "close", lambda: None)()
        finally:
            session = profiler.stop()
            with self.lock:
                self.requests[kind] += 1
                for stack, seconds in session.frame_records:
                    self.cpu[kind, tuple(stack)] += seconds
        return chunks

    def dump(self, path: str) -> None:
        with self.lock:
            records = [[kind, list(stack), seconds] for (kind, stack), seconds in self.cpu.items()]
            Path(path).write_text(json.dumps({"requests": self.requests, "records": records}))


def post_worker_init(worker):
    _portal_post_worker_init(worker)
    worker.wsgi.wsgi_app = worker.profiled = ProfiledRequests(worker.wsgi.wsgi_app)


def worker_exit(server, worker):
    _portal_worker_exit(server, worker)
    if getattr(worker, "profiled", None):
        worker.profiled.dump(os.path.join(os.environ["PROFILE_DIR"], f"worker-{os.getpid()}.json"))
