"""What the portal adds to an Add Face call, measured on loopback. Prints figures; asserts nothing.

1. Latency: Add Face with a ~1.5 MB JPEG through the portal (form GET + POST) against the same multipart
   POST sent straight to the sandbox upstream (real face engine). p50 of each and their ratio.
2. Throughput: 64 concurrent clients for a fixed time against an upstream that takes 1 s per call,
   through the portal (started by the Procfile's own gunicorn command) and straight to the upstream.

Run: .venv/bin/python benchmarks/portal_overhead.py [--seconds 20] [--clients 64]
"""
from __future__ import annotations

import argparse
import io
import logging
import multiprocessing
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

import requests
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from delayed_upstream import DelayedUpstream  # noqa: E402  (beside this script)
from facesite import advance  # noqa: E402
from facesite.sandbox import sandbox_credentials  # noqa: E402
from facesite.sandbox.launcher import free_port, start_sandbox, stop_sandbox, wait_until_up  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns the figures
BENCH_PASSWORD = "benchmark-password"
FACES = ROOT / "tests" / "data" / "faces"


def jpeg_of_about(megabytes: float) -> bytes:
    """obama.jpg scaled up until the JPEG weighs about the size asked."""
    source = Image.open(FACES / "obama.jpg").convert("RGB")
    for side in range(1600, 4096, 50):
        out = io.BytesIO()
        source.resize((side * 4 // 5, side)).save(out, "JPEG", quality=95)
        if len(out.getvalue()) >= megabytes * 1_000_000:
            return out.getvalue()
    raise RuntimeError("could not reach the size")


def start_portal(upstream_url: str, instance: str) -> tuple[str, subprocess.Popen]:
    """The portal exactly as the Procfile starts it."""
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
    port = free_port()
    env = {**os.environ, "PORT": str(port), "ADVANCE_BASE_URL": upstream_url, "INSTANCE_PATH": instance,
           "LOG_LEVEL": "WARNING", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           # The benchmark measures capacity, not the per-user rate limit.
           "RATE_LIMIT_ENROL": "1000000 per minute", "RATE_LIMIT_LOGIN": "1000000 per minute",
           "FACESITE_PASSWORD": BENCH_PASSWORD}
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "create-user", "bench", "--role", "operator"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = open(os.path.join(instance, "portal.log"), "w")  # the access log: per-request times, for digging
    process = subprocess.Popen(shlex.split(line.split(":", 1)[1]), cwd=ROOT, env=env, start_new_session=True,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, timeout=60, process=process)
    return url, process


def stop_portal(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def signed_in(portal: str) -> requests.Session:
    session = requests.Session()
    login = session.get(portal + "/auth/login", timeout=60).text
    session.post(portal + "/auth/login", timeout=60, data={"csrf_token": hidden(login, "csrf_token"),
                                                           "username": "bench", "password": BENCH_PASSWORD})
    return session


def enrol_through_portal(session: requests.Session, portal: str, picture: bytes) -> None:
    form = session.get(portal + "/enrol/", timeout=60).text
    fields = {name: hidden(form, name) for name in ("csrf_token", "submissionId")}
    answer = session.post(portal + "/enrol/", data={**fields, "faceSetId": "demo"}, allow_redirects=False,
                          files={"faceImage": ("face.jpg", picture, "image/jpeg")}, timeout=60)
    if answer.status_code != 303:
        raise RuntimeError(f"portal answered {answer.status_code}")


def direct_client(upstream: str) -> advance.AdvanceClient:
    access_key, secret_key = sandbox_credentials()
    return advance.AdvanceClient(upstream, access_key=access_key, secret_key=secret_key, read_timeout=60,
                                 pool_size=128)


def latency(picture: bytes, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        sandbox_url, sandbox = start_sandbox(os.path.join(scratch, "sandbox.sqlite3"))
        portal_url, portal = start_portal(sandbox_url, os.path.join(scratch, "instance"))
        try:
            direct, session = direct_client(sandbox_url), signed_in(portal_url)
            direct.add_face("demo", picture, filename="f.jpg", mime_type="image/jpeg")  # warm both paths
            enrol_through_portal(session, portal_url, picture)
            portal_times, direct_times = [], []
            for _ in range(rounds):  # interleaved, so drift on a noisy machine hits both alike
                started = time.perf_counter()
                direct.add_face("demo", picture, filename="f.jpg", mime_type="image/jpeg")
                direct_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                enrol_through_portal(session, portal_url, picture)
                portal_times.append(time.perf_counter() - started)
        finally:
            stop_portal(portal)
            stop_sandbox(sandbox)
    p50_direct, p50_portal = statistics.median(direct_times), statistics.median(portal_times)
    print(f"add face, {len(picture) / 1048576:.2f} MB JPEG, sandbox upstream, {rounds} rounds:")
    print(f"  direct p50 {p50_direct * 1000:7.1f} ms   portal p50 {p50_portal * 1000:7.1f} ms   "
          f"overhead {(p50_portal - p50_direct) * 1000:.1f} ms   ratio {p50_portal / p50_direct:.3f} (target <= 1.10)")


def _client_threads(threads: int, seconds: float, call, setup=None) -> tuple[int, int, float]:
    """Loops of ``call`` started until ``seconds`` have passed; the calls under way then are
    finished and counted, and the time they took is included: (done, failed, elapsed)."""
    done, failed = [0] * threads, [0] * threads
    ready = threading.Barrier(threads + 1)
    window = {}

    def worker(index):
        state = {}
        if setup:
            setup(state)  # e.g. signing in: not part of what is timed
        ready.wait()
        while time.monotonic() < window["end"]:
            try:
                call(state)
                done[index] += 1
            except Exception as error:  # counted, not fatal: the figure must show failures
                if not any(failed):
                    print(f"  first failure: {type(error).__name__}: {error}", file=sys.stderr)
                failed[index] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    window["end"] = time.monotonic() + 3600
    ready.wait()
    started = time.monotonic()
    window["end"] = started + seconds
    for thread in pool:
        thread.join()
    return sum(done), sum(failed), time.monotonic() - started


def run_clients(clients: int, seconds: float, call, setup=None, processes: int = 4) -> tuple[float, int]:
    """``clients`` concurrent loops of ``call`` for ``seconds``, spread over a few processes so
    that the load generator's own GIL does not become what is measured."""
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
        results = list(pool.map(_client_threads, shares, [seconds] * processes, [call] * processes,
                                [setup] * processes))
    # (calls per second, failures): each process's count over the time its own calls took
    return sum(r[0] / r[2] for r in results), sum(r[1] for r in results)


def direct_call(upstream_url: str, picture: bytes, state: dict) -> None:
    client = state.setdefault("client", direct_client(upstream_url))
    client.add_face("demo", picture, filename="f.jpg", mime_type="image/jpeg")


def portal_sign_in(portal_url: str, state: dict) -> None:
    state["session"] = signed_in(portal_url)


def portal_call(portal_url: str, picture: bytes, state: dict) -> None:
    enrol_through_portal(state["session"], portal_url, picture)


def throughput(picture: bytes, clients: int, seconds: float, delay: float) -> None:
    upstream = DelayedUpstream(delay)
    with tempfile.TemporaryDirectory() as scratch:
        portal_url, portal = start_portal(upstream.url, os.path.join(scratch, "instance"))
        try:
            direct_done, direct_failed = run_clients(clients, seconds, partial(direct_call, upstream.url, picture))
            portal_done, portal_failed = run_clients(clients, seconds, partial(portal_call, portal_url, picture),
                                                     setup=partial(portal_sign_in, portal_url))
        finally:
            stop_portal(portal)
    ideal = clients / delay
    direct_rate, portal_rate = direct_done, portal_done
    print(f"throughput, {clients} clients, upstream {delay:g} s per call, {seconds:g} s, "
          f"{len(picture) / 1024:.0f} KB JPEG (ideal {ideal:.1f}/s):")
    print(f"  direct {direct_rate:6.1f}/s ({direct_failed} failed)   portal {portal_rate:6.1f}/s "
          f"({portal_failed} failed)   ratio {portal_rate / direct_rate:.3f} (target >= 0.9)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--delay", type=float, default=1.0)
    args = parser.parse_args()
    big = jpeg_of_about(1.5)
    latency(big, args.rounds)
    throughput((FACES / "obama.jpg").read_bytes(), args.clients, args.seconds, args.delay)
    throughput(big, args.clients, args.seconds, args.delay)


if __name__ == "__main__":
    main()
