"""Soak: the portal under mixed staff load for minutes, with a slice of hostile requests. Prints figures.

The portal is started exactly as the Procfile starts it (gunicorn -c gunicorn.conf.py app:app) with a
temporary INSTANCE_PATH and a stand-in vendor on loopback (its own process; every call answered after
--delay seconds). --clients threads, each signed in as its own three users (one per role, made with
`flask --app app create-user`), then work like staff for --minutes: enrol, search, browse the register
and the audit log, upload small batches (ZIP + CSV) and start them, download CSV exports. About --hostile
of the requests are hostile: a PNG of 8000 × 7990 pixels, a PNG whose header claims 65500 × 65500, a ZIP
whose manifest names one member on every row, a broken multipart body, odd query arguments.

Printed: requests, errors (5xx and connection errors) with the first few, p50/p99 latency (all, and per
kind of request), the summed resident memory of the web worker processes at the start, after the
warm-up (the first minute) and at the end, and the growth after the warm-up; open file descriptors and
database connections at the end (SQLite: descriptors open on the database files; PostgreSQL:
pg_stat_activity).

Run: .venv/bin/python benchmarks/soak.py [--minutes 10] [--clients 4] [--delay 0.05] [--hostile 0.05]
     [--database-url postgresql://postgres@127.0.0.1:5432/test]   (in a fresh schema, dropped afterwards)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from soak_staff import PASSWORD, ROLES, Figures, Staff, pictures, username  # noqa: E402  (beside this script)

WARM_UP_SECONDS = 60
TOKEN_PATH = "/openapi/auth/ticket/v1/generate-token"


# -- the stand-in vendor (run in its own process: its work must not share the load generator's GIL) --------

def serve_vendor(port: int, delay: float) -> None:
    """SUCCESS for every call after ``delay`` s: a new id per added face, the last face found by a search."""
    import itertools

    from werkzeug.serving import make_server

    face_ids, last = itertools.count(1), {"id": None}

    def app(environ, start_response):
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        path = environ["PATH_INFO"]
        if path == TOKEN_PATH:
            data = {"token": "soak", "expiredTime": int((time.time() + 3600) * 1000)}
        else:
            time.sleep(delay)
            if path.endswith("/facereferences"):
                data = last["id"] = str(next(face_ids))
            else:
                found = [{"faceId": last["id"], "similarity": 91.5}] if last["id"] else []
                data = {"total": len(found), "faceReferences": found}
        body = json.dumps({"code": "SUCCESS", "message": "OK", "data": data, "extra": None,
                           "transactionId": "soak", "pricingStrategy": "FREE"}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    server = make_server("127.0.0.1", port, app, threaded=True)
    server.request_queue_size = 256
    server.serve_forever()


# -- the portal -----------------------------------------------------------------------------------------------

def free_port() -> int:
    from facesite.sandbox.launcher import free_port as portal_free_port

    return portal_free_port()


def postgres(database_url: str):
    import sqlalchemy

    return sqlalchemy.create_engine(re.sub(r"^postgres(ql)?://", "postgresql+psycopg2://", database_url))


def fresh_schema(database_url: str) -> tuple[str, str]:
    """A new schema in that PostgreSQL database: (its name, the URL that uses it)."""
    import uuid

    schema = f"facesite_soak_{uuid.uuid4().hex[:10]}"
    engine = postgres(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    separator = "&" if "?" in database_url else "?"
    return schema, f"{database_url}{separator}options=-csearch_path%3D{schema}"


def start_portal(env: dict, log_path: str, clients: int) -> subprocess.Popen:
    line = next(text for text in (ROOT / "Procfile").read_text().splitlines() if text.startswith("web:"))
    for client in range(clients):
        for role in ROLES:
            subprocess.run([sys.executable, "-m", "flask", "--app", "app", "create-user", username(role, client),
                            "--role", role], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    log = open(log_path, "w")
    return subprocess.Popen(shlex.split(line.split(":", 1)[1]), cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)


def descendants(pid: int) -> list[int]:
    """Every process started (directly or not) by ``pid``: gunicorn's workers."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.append(child)
        todo += children.get(child, [])
    return found


def resident_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def open_files(pid: int) -> list[str]:
    targets = []
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                targets.append(os.readlink(fd))
            except OSError:
                pass
    except OSError:
        pass
    return targets


def workers_rss(master: int) -> tuple[float, int]:
    pids = descendants(master)
    return sum(resident_mb(pid) for pid in pids), len(pids)


# -- the run --------------------------------------------------------------------------------------------------------

def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1] if len(values) > 1 else (values or [0])[0]


def database_connections(master: int, instance: str, schema: str | None, database_url: str | None) -> str:
    if schema is None:
        files = [target for pid in [master] + descendants(master) for target in open_files(pid)
                 if target.startswith(instance) and ".sqlite3" in target]
        return f"{len(files)} open descriptors on the SQLite files ({len(set(files))} distinct files)"
    engine = postgres(database_url)
    with engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                           "AND pid <> pg_backend_pid()").scalar()
    engine.dispose()
    return f"{count} PostgreSQL connections to the database (pg_stat_activity, this script's own excluded)"


def report(figures: Figures, seconds: float, memory: dict, master: int, instance: str, connections: str,
           log_path: str) -> None:
    records = list(figures.records)
    errors = [r for r in records if r[1] >= 500 or r[1] == 0]
    times = [r[2] for r in records]
    print(f"soak: {figures.requests} requests ({len(records)} calls, redirects followed) in {seconds / 60:.1f} min "
          f"({figures.requests / seconds:.1f}/s), {len(errors)} errors (5xx or no answer)")
    for line in figures.errors:
        print(f"  error: {line}")
    print(f"latency per call: p50 {percentile(times, 0.5) * 1000:.0f} ms, p99 {percentile(times, 0.99) * 1000:.0f} ms")
    for kind in sorted({r[0] for r in records}):
        mine = [r for r in records if r[0] == kind]
        statuses = {}
        for record in mine:
            statuses[record[1]] = statuses.get(record[1], 0) + 1
        print(f"  {kind:9} {len(mine):6} requests  p50 {percentile([r[2] for r in mine], 0.5) * 1000:6.0f} ms  "
              f"p99 {percentile([r[2] for r in mine], 0.99) * 1000:6.0f} ms  statuses {dict(sorted(statuses.items()))}")
    print("worker RSS (sum over the web worker processes): " +
          ", ".join(f"{label} {mb:.0f} MB ({count} processes)" for label, (mb, count) in memory.items()))
    warm, end = memory["after warm-up"][0], memory["end"][0]
    print(f"RSS growth after warm-up: {(end - warm) / warm * 100:+.1f} %" if warm else "RSS growth: no warm-up figure")
    fds = {pid: len(open_files(pid)) for pid in [master] + descendants(master)}
    print(f"open file descriptors at the end: {sum(fds.values())} ({', '.join(f'{n}' for n in fds.values())} "
          f"for master, workers)")
    print(f"database connections at the end: {connections}")
    tracebacks = Path(log_path).read_text(errors="replace").count("Traceback")
    print(f"tracebacks in the portal's log: {tracebacks}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--delay", type=float, default=0.05, help="seconds the stand-in vendor takes per call")
    parser.add_argument("--hostile", type=float, default=0.05, help="share of hostile requests")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="PostgreSQL (default: SQLite in the temporary instance folder)")
    parser.add_argument("--serve-vendor", type=int, help=argparse.SUPPRESS)  # the vendor's own process
    args = parser.parse_args()
    if args.serve_vendor:
        serve_vendor(args.serve_vendor, args.delay)
        return
    staff_pictures = pictures()
    with tempfile.TemporaryDirectory() as scratch:
        vendor_port, port = free_port(), free_port()
        vendor = subprocess.Popen([sys.executable, __file__, "--serve-vendor", str(vendor_port),
                                   "--delay", str(args.delay)], stderr=subprocess.DEVNULL)
        instance, log_path = os.path.join(scratch, "instance"), os.path.join(scratch, "portal.log")
        schema, database_url = fresh_schema(args.database_url) if args.database_url else (None, None)
        unlimited = "1000000 per minute"
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "INSTANCE_PATH": instance,
               "ADVANCE_BASE_URL": f"http://127.0.0.1:{vendor_port}", "LOG_LEVEL": "WARNING",
               "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "FACESITE_PASSWORD": PASSWORD,
               "RATE_LIMIT_ENROL": unlimited, "RATE_LIMIT_SEARCH": unlimited, "RATE_LIMIT_LOGIN": unlimited}
        if database_url:
            env["DATABASE_URL"] = database_url
        portal = start_portal(env, log_path, args.clients)
        try:
            from facesite.sandbox.launcher import wait_until_up

            url = f"http://127.0.0.1:{port}"
            wait_until_up(url, timeout=90, process=portal)
            memory = {"start": workers_rss(portal.pid)}
            figures, started = Figures(), time.monotonic()
            deadline = started + args.minutes * 60
            clients = [Staff(url, figures, staff_pictures, client, args.hostile, deadline, args.seed)
                       for client in range(args.clients)]
            for client in clients:
                client.start()
            time.sleep(min(WARM_UP_SECONDS, args.minutes * 60))
            memory["after warm-up"] = workers_rss(portal.pid)
            for client in clients:
                client.join()
            elapsed = time.monotonic() - started
            memory["end"] = workers_rss(portal.pid)
            connections = database_connections(portal.pid, instance, schema, args.database_url)
            report(figures, elapsed, memory, portal.pid, instance, connections, log_path)
        finally:
            os.killpg(portal.pid, signal.SIGTERM)
            portal.wait(timeout=60)
            vendor.terminate()
            vendor.wait(timeout=10)
            if schema:
                drop_schema(args.database_url, schema)


def drop_schema(database_url: str, schema: str) -> None:
    engine = postgres(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
    engine.dispose()


if __name__ == "__main__":
    main()
