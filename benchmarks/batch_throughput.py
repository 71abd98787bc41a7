"""How fast a batch job enrols, against an upstream that takes a fixed time per call. Prints figures.

For each BATCH_CONCURRENCY asked (default 4, 8, 16): a job of N rows (default 1,000) is checked and
made from a ZIP and manifest as an upload would be, then run to the end by the same runner the
portal uses (its own process, SQLite, preparation, audit trail and register included). The upstream
answers every Add Face after --delay seconds (default 0.3) from another process, so the ideal rate
is concurrency ÷ delay rows per second. Reported: rows/s, the ratio to the ideal, the runner's peak
memory (resident set, sampled every 20 ms) above what the process held before the run (base), the
time to check the upload and make the job, and the runner's CPU time per row.

Run: .venv/bin/python benchmarks/batch_throughput.py [--rows 1000] [--delay 0.3] [--concurrency 4 8 16]
     [--database-url postgresql://postgres@127.0.0.1:5432/test]   (each run in a fresh schema; default SQLite)
"""
from __future__ import annotations

import argparse
import io
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

from PIL import Image

from facesite.config import settings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FACES = ROOT / "tests" / "data" / "faces"


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakMemory(threading.Thread):
    def __init__(self):
        super().__init__(daemon=True)
        self.peak = resident_mb()
        self.done = threading.Event()

    def run(self):
        while not self.done.wait(0.02):
            self.peak = max(self.peak, resident_mb())


def upload(rows: int, face_set: str) -> tuple[io.BytesIO, bytes]:
    """A ZIP of ``rows`` photos (a real face, 480 px wide, ~40 KB) and its manifest."""
    image = Image.open(FACES / "obama.jpg").convert("RGB")
    image = image.resize((480, round(image.height * 480 / image.width)))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as writer:
        for i in range(rows):
            writer.writestr(f"photos/{i:05}.jpg", out.getvalue())
    manifest = "faceSetId,faceImage,externalReferenceId,name,country\n" + "".join(
        f"{face_set},photos/{i:05}.jpg,BENCH-{i:05},Person {i},ID\n" for i in range(rows))
    return archive, manifest.encode()


def fresh_schema(database_url: str) -> str:
    """A new, empty schema in that PostgreSQL database; the URL that uses it."""
    import uuid

    import sqlalchemy

    schema = f"facesite_bench_{uuid.uuid4().hex[:10]}"
    url = database_url.replace("postgres://", "postgresql+psycopg2://", 1)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url[len("postgresql://"):]
    engine = sqlalchemy.create_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine.dispose()
    return f"{url}?options=-csearch_path%3D{schema}"


def one_run(rows: int, concurrency: int, upstream_url: str, database_url: str | None) -> None:
    """In a fresh process: make the job, run it, print one line of JSON-ish figures."""
    os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="facesite-batch-bench-")
    if database_url:
        os.environ["DATABASE_URL"] = fresh_schema(database_url)
    os.environ["ADVANCE_BASE_URL"] = upstream_url
    os.environ["BATCH_CONCURRENCY"] = str(concurrency)
    logging.disable(logging.INFO)  # a line per vendor call would cost more than it tells
    from facesite.app import create_app
    from facesite.batch import jobs, lifecycle
    from facesite.batch.limits import UploadLimits, open_archive
    from facesite.batch.manifest import plan_upload
    from facesite.batch.runner import run_job
    from facesite.extensions import db
    from facesite.models import BatchJob, FaceSet

    app = create_app({"BATCH_SWEEP_SECONDS": 0})
    with app.app_context():
        db.session.add(FaceSet(id="bench", label="Benchmark"))
        db.session.commit()
        archive, manifest = upload(rows, "bench")
        started = time.perf_counter()
        limits = replace(UploadLimits.from_settings(settings(app)), rows=rows)
        plan = plan_upload(open_archive(archive, limits), manifest, None, limits)
        job_id = jobs.create_job(plan, archive, "bench.zip", "benchmark").id
    run_job(app, job_id)  # the background check of every photo
    checked = time.perf_counter() - started
    with app.app_context():
        assert lifecycle.start(db.session.get(BatchJob, job_id), "benchmark")
    before = resident_mb()
    memory = PeakMemory()
    memory.start()
    started, cpu = time.perf_counter(), time.process_time()
    run_job(app, job_id)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    memory.done.set()
    memory.join()
    with app.app_context():
        progress = jobs.progress(db.session.get(BatchJob, job_id))
    assert progress["done"] == rows, progress
    if database_url:  # leave the database as it was
        import sqlalchemy

        schema = os.environ["DATABASE_URL"].rsplit("%3D", 1)[1]
        with app.app_context():
            db.engine.dispose()
        engine = sqlalchemy.create_engine(os.environ["DATABASE_URL"])
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()
    print(f"{concurrency} {rows / elapsed:.2f} {elapsed:.1f} {memory.peak - before:.1f} {before:.1f} {checked:.1f} "
          f"{1000 * cpu / rows:.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--delay", type=float, default=0.3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--database-url", help="PostgreSQL to run against (default: SQLite in a temporary folder)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one run in this process
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.one:
        one_run(arguments.rows, arguments.one, arguments.upstream, arguments.database_url)
        return

    from facesite.sandbox.launcher import free_port, wait_until_up

    port = free_port()
    upstream = subprocess.Popen([sys.executable, str(Path(__file__).with_name("delayed_upstream.py")),
                                 "--delay", str(arguments.delay), "--port", str(port)], stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process=upstream)
    except RuntimeError:
        pass  # the stand-in has no /healthz; it answers 404 once it listens
    print(f"{arguments.rows} rows per job, upstream {arguments.delay * 1000:.0f} ms per Add Face, "
          f"{os.cpu_count()} CPUs, {'PostgreSQL' if arguments.database_url else 'SQLite'}")
    print(f"{'concurrency':>11} {'rows/s':>8} {'ideal':>7} {'ratio':>6} {'seconds':>8} {'peak MB':>8} "
          f"{'base MB':>8} {'check s':>8} {'CPU ms/row':>10}")
    try:
        for concurrency in arguments.concurrency:
            command = [sys.executable, __file__, "--one", str(concurrency), "--rows", str(arguments.rows),
                       "--upstream", url] + (["--database-url", arguments.database_url] if arguments.database_url else [])
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            line = output.strip().splitlines()[-1].split()  # the figures come last, after any log line
            rate, seconds, peak, base, checked, cpu = (float(x) for x in line[1:])
            ideal = concurrency / arguments.delay
            print(f"{concurrency:>11} {rate:>8.2f} {ideal:>7.2f} {rate / ideal:>6.2f} {seconds:>8.1f} {peak:>8.1f} "
                  f"{base:>8.1f} {checked:>8.1f} {cpu:>10.1f}")
    finally:
        upstream.terminate()


if __name__ == "__main__":
    main()
