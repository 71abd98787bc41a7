"""How many stalled connections the portal survives (issue 11, case 5). Prints figures; asserts nothing.

The portal runs exactly as the Procfile starts it, with its embedded sandbox (real face engine). A signed-in
user works while more and more slowloris connections are held open: 90 % stuck in their headers and
10 % in a body, each sending one byte every 2 s, and each opened again at once when the portal cuts it
off (as an attacker would). At each level /healthz (on a new connection) and a whole enrolment (form,
then POST with a photo) are timed three times; the level is survived when every answer came within 2 s.

Run: .venv/bin/python benchmarks/stalled_connections.py [--levels 100,250,500,1000,2000,4000] [--stock]
     --stock: gunicorn's own gthread worker, the set-up before the buffering worker (the before figure)
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from portal_overhead import enrol_through_portal, signed_in, start_portal, stop_portal  # noqa: E402 (beside it)

from tests.support.slow_clients import StalledClients  # noqa: E402

WITHIN_SECONDS = 2.0
PROBES = 3


def attacker(address: tuple[str, int], orders) -> None:
    """The stalled connections, in a process of their own so that their work does not slow the
    probes' own client down. Orders: (headers, bodies) to hold; answered with (held, cut off, problem)."""
    with StalledClients(address, interval=2.0) as stalled:
        while (order := orders.recv()) is not None:
            stalled.resize(*order)
            problem = ""
            try:
                stalled.wait_until_held(sum(order), timeout=120)
            except AssertionError as error:
                problem = str(error)
            time.sleep(3)  # a few bytes' worth of stalling before the probes
            orders.send((stalled.held, stalled.cut_off, problem))


def timed(call) -> float:
    """Seconds ``call`` took; infinity when it failed."""
    started = time.perf_counter()
    try:
        call()
    except Exception as error:  # a failed probe is a figure, not a crash
        print(f"    probe failed: {type(error).__name__}: {error}")
        return float("inf")
    return time.perf_counter() - started


def probe(portal_url: str, session: requests.Session, picture: bytes) -> tuple[float, float]:
    """The slowest /healthz and the slowest enrolment of a few."""
    def healthz():
        requests.get(portal_url + "/healthz", timeout=30).raise_for_status()

    health = max(timed(healthz) for _ in range(PROBES))
    enrol = max(timed(lambda: enrol_through_portal(session, portal_url, picture)) for _ in range(PROBES))
    return health, enrol


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="0,100,250,500,1000,2000,4000",
                        help="stalled connections to hold, in order (comma-separated)")
    parser.add_argument("--stock", action="store_true", help="gunicorn's own gthread worker (before)")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]

    # Each stalled connection is a file descriptor here too; the portal raises its own limit.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.stock:
        os.environ["GUNICORN_CMD_ARGS"] = "--worker-class gthread"  # the command line wins over the config file
    picture = (ROOT / "tests" / "data" / "faces" / "obama.jpg").read_bytes()
    worker = "gunicorn gthread (before)" if args.stock else "buffering worker"
    print(f"{worker}; WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', '2')}, "
          f"GUNICORN_THREADS={os.environ.get('GUNICORN_THREADS', '50')}; "
          f"pass = every probe within {WITHIN_SECONDS:g} s")
    print(f"{'stalled':>8} {'held':>6} {'cut off':>8} {'/healthz max':>13} {'enrol max':>10}  result")
    survived = 0
    with tempfile.TemporaryDirectory() as scratch:
        portal_url, portal = start_portal("", os.path.join(scratch, "instance"))  # no upstream: its own sandbox
        port = int(portal_url.rsplit(":", 1)[1])
        try:
            session = signed_in(portal_url)
            enrol_through_portal(session, portal_url, picture)  # warm up the face engine
            orders, attacker_end = multiprocessing.Pipe()
            attack = multiprocessing.get_context("fork").Process(target=attacker,
                                                                 args=(("127.0.0.1", port), attacker_end))
            attack.start()
            for level in levels:
                orders.send((level - level // 10, level // 10))
                held, cut_off, problem = orders.recv()
                if problem:
                    print(f"    {problem}")
                health, enrol = probe(portal_url, session, picture)
                passed = max(health, enrol) <= WITHIN_SECONDS
                print(f"{level:>8} {held:>6} {cut_off:>8} {health:>12.2f}s {enrol:>9.2f}s  "
                      f"{'ok' if passed else 'FAILED'}", flush=True)
                if not passed:
                    break
                survived = level
            orders.send(None)
            attack.join(timeout=60)
        finally:
            stop_portal(portal)
    print(f"survived: {survived} stalled connections with /healthz and an enrolment within {WITHIN_SECONDS:g} s")


if __name__ == "__main__":
    main()
