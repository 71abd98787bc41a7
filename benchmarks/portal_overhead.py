"""What the portal costs per Add Face and per Search, against the upstream itself and a reference
forwarder (issue 14). Prints figures; asserts nothing. In one run, for each call:

1. Latency, upstream delay 300 ms: p50 of the direct call, the reference forwarder and the portal
   (signed-in staff: the form, the POST, the result page its 303 names), interleaved round by round.
2. Throughput, upstream delay 1 s: --clients concurrent clients for --seconds against each (calls/s),
   with the CPU the server's processes used per call (gunicorn master + workers, from /proc).
   After each portal run: HTTP 5xx answers, audit records left incomplete, enrolments lost.

The portal is started by the Procfile's own web line; the forwarder (reference_forwarder.py) under
gunicorn gthread with the same processes and threads; the upstream is delayed_upstream.py.

Run: .venv/bin/python benchmarks/portal_overhead.py [--database sqlite|postgresql] [--clients 64]
     [--seconds 20] [--rounds 15] [--runs 1]
"""
from __future__ import annotations

import argparse
import collections
import io
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_clients import CALLS, direct_call, forwarder_call, portal_call, run_clients, signed_in_staff  # noqa: E402
from bench_servers import ROOT, Database, server_cpu_seconds, start_forwarder, start_portal, stop_server  # noqa: E402
from delayed_upstream import DelayedUpstream  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns the figures
FACES = ROOT / "tests" / "data" / "faces"
TARGETS = ("direct", "forwarder", "portal")
GOOD = ("ok", "posted", "accepted")  # what a call's tally holds when nothing went wrong
CALL_NAMES = {"add_face": "Add Face", "search": "Search"}


def jpeg_of_about(megabytes: float) -> bytes:
    """obama.jpg scaled up until the JPEG weighs about the size asked."""
    source = Image.open(FACES / "obama.jpg").convert("RGB")
    for side in range(1600, 4096, 50):
        out = io.BytesIO()
        source.resize((side * 4 // 5, side)).save(out, "JPEG", quality=95)
        if len(out.getvalue()) >= megabytes * 1_000_000:
            return out.getvalue()
    raise RuntimeError("could not reach the size")


class Bench:
    """The three targets, started once, and the figures measured on them."""

    def __init__(self, upstream: DelayedUpstream, forwarder: tuple, portal: tuple, portal_instance: str,
                 database: Database, staff: list[dict], picture: bytes):
        self.upstream, self.database, self.staff, self.picture = upstream, database, staff, picture
        self.servers = {"forwarder": forwarder[1], "portal": portal[1]}
        self.portal_log, self.log_lines_read = os.path.join(portal_instance, "portal.log"), 0
        self.urls = {"direct": upstream.url, "forwarder": forwarder[0], "portal": portal[0]}
        self.p50 = {}  # (call, target) -> seconds
        self.rates = {}  # (call, target) -> [calls/s per run]
        self.cpu = {}  # (call, target) -> [ms per call per run]

    def call(self, target: str, call: str):
        function = {"direct": direct_call, "forwarder": forwarder_call, "portal": portal_call}[target]
        return partial(function, self.urls[target], call, self.picture)

    def latency(self, call: str, rounds: int) -> None:
        self.upstream.delay = 0.3
        states = {target: {"cookies": self.staff[0]} for target in TARGETS}
        calls = {target: self.call(target, call) for target in TARGETS}
        times = {target: [] for target in TARGETS}
        for target in TARGETS:
            calls[target](states[target])  # warm: connections, tokens, the face set adopted
        for _ in range(rounds):  # interleaved, so drift on a noisy machine hits all alike
            for target in TARGETS:
                started = time.perf_counter()
                failed = {label: n for label, n in calls[target](states[target]).items() if label not in GOOD}
                times[target].append(time.perf_counter() - started)
                if failed:
                    print(f"  {target} {call} failed in the latency phase: {dict(failed)}", file=sys.stderr)
        for target in TARGETS:
            self.p50[call, target] = statistics.median(times[target])

    def throughput(self, call: str, target: str, clients: int, seconds: float) -> None:
        self.upstream.delay = 1.0
        server = self.servers.get(target)
        cpu_before = server_cpu_seconds(server) if server else 0
        received_before = self.upstream.received[call]
        enrolled_before = self.database.enrolments() if target == "portal" else 0
        rate, tally = run_clients([{"cookies": cookies} for cookies in self.staff[:clients]], seconds,
                                  self.call(target, call))
        completed = tally["ok"]
        line = f"  {CALL_NAMES[call]:8} {target:9} {rate:6.1f} calls/s"
        if server:
            cpu_ms = (server_cpu_seconds(server) - cpu_before) * 1000 / max(completed, 1)
            self.cpu.setdefault((call, target), []).append(cpu_ms)
            line += f"  CPU {cpu_ms:5.1f} ms/call"
        self.rates.setdefault((call, target), []).append(rate)
        failures = {label: n for label, n in tally.items() if label not in GOOD}
        line += f"  ({completed} done, failures {failures or 'none'})"
        print(line, flush=True)
        if target == "portal":
            self.check_portal(call, tally, self.upstream.received[call] - received_before,
                              self.database.enrolments() - enrolled_before)

    def check_portal(self, call: str, tally, upstream_received: int, registered: int) -> None:
        line = (f"    portal checks: HTTP 5xx {tally['5xx']}, audit records incomplete "
                f"{self.database.incomplete_audit_records()}")
        if call == "add_face":
            lost = max(tally["accepted"] - registered, upstream_received - registered, 0)
            line += (f", enrolments: {tally['posted']} posted, {tally['accepted']} answered 303, {registered} in "
                     f"the register, {upstream_received} received upstream -> {lost} lost")
        if self.database.kind == "sqlite":
            files = [Path(self.database.url.removeprefix("sqlite:///") + suffix) for suffix in ("", "-wal")]
            line += f"; database {sum(f.stat().st_size for f in files if f.exists()) / 1e6:.0f} MB"
        print(line, flush=True)
        for message, times in self.portal_errors().most_common(5):
            print(f"    portal log: {times} x {message}", flush=True)
        if self.servers["portal"].poll() is not None:
            tail = Path(self.portal_log).read_text(errors="replace").splitlines()[-15:]
            print(f"    the portal exited with code {self.servers['portal'].returncode}; its log ends:\n      "
                  + "\n      ".join(tail), flush=True)

    def portal_errors(self) -> collections.Counter:
        """The exceptions the portal logged since the last look, by their last line."""
        log = Path(self.portal_log).read_text(errors="replace").splitlines()
        seen, self.log_lines_read = self.log_lines_read, len(log)
        return collections.Counter(line.strip()[:200] for line in log[seen:]
                                   if re.match(r"^[\w.]+(Error|Exception|Timeout)\b", line.strip()))

    def table(self, clients: int) -> str:
        rows = [f"| call | target | p50, upstream 300 ms (x direct) | {clients} clients, upstream 1 s: calls/s "
                f"(x forwarder) | CPU per call, ms (x forwarder) |", "|---|---|---|---|---|"]
        for call in CALLS:
            for target in TARGETS:
                p50 = self.p50[call, target]
                latency = f"{p50 * 1000:.0f} ms ({p50 / self.p50[call, 'direct']:.2f} x)"
                rows.append(f"| {CALL_NAMES[call]} | {target} | {latency} | "
                            f"{self.figure(self.rates, call, target, '.1f')} | "
                            f"{self.figure(self.cpu, call, target, '.0f')} |")
        return "\n".join(rows)

    @staticmethod
    def figure(measured: dict, call: str, target: str, style: str) -> str:
        """Median over the runs (and their range), with its ratio to the forwarder's for the portal."""
        runs = measured.get((call, target))
        if not runs:
            return "-"
        text = f"{statistics.median(runs):{style}}"
        if len(runs) > 1:
            text += f" [{min(runs):{style}}-{max(runs):{style}}]"
        if target == "portal":
            text += f" ({statistics.median(runs) / statistics.median(measured[call, 'forwarder']):.2f} x)"
        return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (staff) in the throughput phase")
    parser.add_argument("--seconds", type=float, default=20, help="length of each throughput measurement")
    parser.add_argument("--rounds", type=int, default=15, help="calls per target in the latency phase")
    parser.add_argument("--runs", type=int, default=1, help="throughput phases in a row, on the same portal")
    parser.add_argument("--megabytes", type=float, default=1.28, help="size of the JPEG sent")
    args = parser.parse_args()
    picture = jpeg_of_about(args.megabytes)
    upstream = DelayedUpstream(0.3)
    with tempfile.TemporaryDirectory() as scratch:
        instance = os.path.join(scratch, "instance")
        database = Database(args.database, instance)
        forwarder = start_forwarder(upstream.url, os.path.join(scratch, "forwarder.log"))
        try:
            portal = start_portal(upstream.url, instance, database)
            try:
                print(f"{len(picture) / 1e6:.2f} MB JPEG, database {args.database}, {args.clients} clients, "
                      f"{args.seconds:g} s per throughput measurement, {os.cpu_count()} cores", flush=True)
                staff = signed_in_staff(portal[0], args.clients)
                bench = Bench(upstream, forwarder, portal, instance, database, staff, picture)
                for call in CALLS:
                    bench.latency(call, args.rounds)
                for run in range(1, args.runs + 1):
                    print(f"throughput run {run} of {args.runs}:", flush=True)
                    for call in CALLS:
                        for target in TARGETS:
                            bench.throughput(call, target, args.clients, args.seconds)
            finally:
                stop_server(portal[1])
        finally:
            stop_server(forwarder[1])
            database.drop()
    print()
    print(bench.table(args.clients))


if __name__ == "__main__":
    main()
