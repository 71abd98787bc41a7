"""The servers the portal benchmarks measure, each started as production starts it, and what is read
from them afterwards: the CPU their processes used (from /proc) and the rows the portal's database holds.

- the portal: the Procfile's web line (gunicorn, facesite/serving worker), signed-in staff account "bench";
- the reference forwarder (reference_forwarder.py) under gunicorn gthread, the same processes and threads;
- the database: SQLite in a fresh instance folder, or a fresh schema in the local PostgreSQL.
"""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import sqlalchemy

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from facesite.config import ServingSettings  # noqa: E402
from facesite.sandbox.keys import sandbox_credentials  # noqa: E402
from facesite.sandbox.launcher import free_port, wait_until_up  # noqa: E402

BENCH_USER, BENCH_PASSWORD = "bench", "benchmark-password"
POSTGRES_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/test"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Database:
    """The portal's database for one benchmark run: fresh, and dropped at the end (PostgreSQL)."""

    def __init__(self, kind: str, instance: str):
        self.kind, self.schema = kind, None
        if kind == "sqlite":
            self.url = "sqlite:///" + os.path.join(instance, "facesite.sqlite3")  # the portal's default
            self.portal_url = None  # the portal finds it in its instance folder
        else:
            self.schema = f"facesite_bench_{uuid.uuid4().hex[:10]}"
            with sqlalchemy.create_engine(POSTGRES_SERVER).begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {self.schema}")
            self.url = f"{POSTGRES_SERVER}?options=-csearch_path%3D{self.schema}"
            self.portal_url = self.url
        self._engine = None

    def count(self, sql: str) -> int:
        self._engine = self._engine or sqlalchemy.create_engine(self.url, poolclass=sqlalchemy.pool.NullPool)
        with self._engine.connect() as connection:
            return connection.exec_driver_sql(sql).scalar_one()

    def enrolments(self) -> int:
        return self.count("SELECT count(*) FROM enrolments")

    def incomplete_audit_records(self) -> int:
        return self.count("SELECT count(*) FROM vendor_calls WHERE finished_at IS NULL")

    def drop(self) -> None:
        if self._engine:
            self._engine.dispose()
        if self.schema:
            with sqlalchemy.create_engine(POSTGRES_SERVER).begin() as connection:
                connection.exec_driver_sql(f"DROP SCHEMA {self.schema} CASCADE")


def start_portal(upstream_url: str, instance: str, database: Database, gunicorn_config: str | None = None,
                 extra_env: dict | None = None) -> tuple[str, subprocess.Popen]:
    """The portal exactly as the Procfile starts it (another gunicorn config file only when profiling)."""
    line = next(l for l in (ROOT / "Procfile").read_text().splitlines() if l.startswith("web:"))
    command = shlex.split(line.split(":", 1)[1])
    if gunicorn_config:
        command[command.index("-c") + 1] = gunicorn_config
    port = free_port()
    env = {**os.environ, "PORT": str(port), "ADVANCE_BASE_URL": upstream_url, "INSTANCE_PATH": instance,
           "LOG_LEVEL": "WARNING", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
           # The benchmark measures capacity, not the per-user rate limit.
           "RATE_LIMIT_ENROL": "1000000 per minute", "RATE_LIMIT_LOGIN": "1000000 per minute",
           "RATE_LIMIT_SEARCH": "1000000 per minute",
           # Sign-ins in flight count as failures until they succeed: hundreds at once would trip it.
           "LOGIN_MAX_FAILURES": "1000000", "FACESITE_PASSWORD": BENCH_PASSWORD, **(extra_env or {})}
    if database.portal_url:
        env["DATABASE_URL"] = database.portal_url
    os.makedirs(instance, exist_ok=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "app", "create-user", BENCH_USER, "--role", "operator"],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    log = open(os.path.join(instance, "portal.log"), "w")  # the access log: per-request times, for digging
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, timeout=60, process=process)
    return url, process


def start_forwarder(upstream_url: str, log_path: str) -> tuple[str, subprocess.Popen]:
    """reference_forwarder.py under gunicorn gthread, with the portal's processes and threads."""
    serving = ServingSettings.from_env(os.environ)
    access_key, secret_key = sandbox_credentials()
    port = free_port()
    env = {**os.environ, "FORWARDER_UPSTREAM": upstream_url, "FORWARDER_ACCESS_KEY": access_key,
           "FORWARDER_SECRET_KEY": secret_key, "PYTHONPATH": str(ROOT)}
    # Started in benchmarks/, so that gunicorn does not read the portal's ./gunicorn.conf.py.
    command = [sys.executable, "-m", "gunicorn", "--no-control-socket", "-k", "gthread",
               "-w", str(serving.workers), "--threads", str(serving.threads), "-b", f"127.0.0.1:{port}",
               "--backlog", "2048", "reference_forwarder:app"]
    process = subprocess.Popen(command, cwd=HERE, env=env, start_new_session=True,
                               stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(url, timeout=60, process=process)
    return url, process


def stop_server(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=60)


def server_cpu_seconds(process: subprocess.Popen) -> float:
    """user + system CPU of a server's process group (the gunicorn master and its workers), including
    workers that have already exited (counted in the master's children's times)."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        # fields[0] is the state (stat field 3): pgrp is field 5, utime..cstime fields 14-17.
        if int(fields[2]) == process.pid:
            utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
            total += utime + stime + (cutime + cstime if int(entry) == process.pid else 0)
    return total / CLOCK_TICKS
