"""What a large CSV export costs the portal: time, time to the first byte, and memory. Prints figures.

A portal (SQLite in a temporary folder, or a fresh schema in PostgreSQL) is filled with N register
entries, each with a 160-px thumbnail as enrolment keeps one, and N audit records. An operator's
register export and an administrator's audit export are then read through to the end, chunk by
chunk, the way a slow browser reads them. Reported per export: rows, megabytes sent, seconds, rows
per second, milliseconds to the first chunk, and the process's peak resident memory (sampled every
20 ms) above what it held before the export. A streamed export keeps that peak flat however many
rows there are; one built whole in memory grows with the file. Since the filling leaves freed memory
behind for the export to reuse, the resident figure can read near zero; so each export is read a
second time under tracemalloc, whose peak counts every Python allocation the export makes.

Run: .venv/bin/python benchmarks/csv_export.py [--rows 100000]
     [--database-url postgresql://postgres@127.0.0.1:5432/test]   (a fresh schema, dropped afterwards)
"""
from __future__ import annotations

import argparse
import gc
import io
import logging
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from batch_throughput import PeakMemory, fresh_schema, resident_mb  # noqa: E402 (benchmarks/ is sys.path[0])

INSERT_BATCH = 5000


def thumbnail_bytes() -> bytes:
    image = Image.open(ROOT / "tests" / "data" / "faces" / "obama.jpg").convert("RGB")
    image.thumbnail((160, 160))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def fill(app, rows: int) -> None:
    from facesite.extensions import db
    from facesite.models import Enrolment, VendorCall

    thumbnail = thumbnail_bytes()
    with app.app_context():
        for start in range(0, rows, INSERT_BATCH):
            numbers = range(start, min(rows, start + INSERT_BATCH))
            db.session.execute(db.insert(Enrolment), [
                {"face_id": str(n), "face_set_id": "bench", "external_reference_id": f"BENCH-{n:07}",
                 "name": f"Person number {n}", "country": "ID", "id_card_type": "KTP", "id_number_masked": "••••1234",
                 "enrolled_by": "otto", "transaction_id": f"txn-{n:012}", "thumbnail": thumbnail} for n in numbers])
            db.session.execute(db.insert(VendorCall), [
                {"call": "add_face", "username": "otto", "face_set_id": "bench",
                 "external_reference_id": f"BENCH-{n:07}", "outcome_code": "SUCCESS", "outcome_message": "OK",
                 "transaction_id": f"txn-{n:012}", "pricing_strategy": "FREE", "http_status": 200, "latency_ms": 120}
                for n in numbers])
            db.session.commit()


def read_through(client, url: str) -> tuple[int, int, float]:
    """Lines and bytes of the export, and seconds to its first chunk."""
    started = time.perf_counter()
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    first = None
    sent = lines = 0
    for chunk in response.response:
        first = first if first is not None else time.perf_counter() - started
        sent += len(chunk)
        lines += chunk.count(b"\n")
    return lines, sent, first or 0.0


def measure(client, url: str) -> dict:
    gc.collect()
    before = resident_mb()
    memory = PeakMemory()
    memory.start()
    started = time.perf_counter()
    lines, sent, first = read_through(client, url)
    elapsed = time.perf_counter() - started
    memory.done.set()
    memory.join()
    tracemalloc.start()
    read_through(client, url)
    heap = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"rows": lines - 1, "mb": sent / 1e6, "seconds": elapsed, "first_ms": 1000 * first,
            "peak": memory.peak - before, "heap": heap / 1e6}


def drop_schema(database_url: str) -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA {database_url.rsplit('%3D', 1)[1]} CASCADE")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", help="PostgreSQL to run against (default: SQLite in a temporary folder)")
    arguments = parser.parse_args()
    os.environ["INSTANCE_PATH"] = tempfile.mkdtemp(prefix="facesite-csv-bench-")
    if arguments.database_url:
        os.environ["DATABASE_URL"] = fresh_schema(arguments.database_url)
    logging.disable(logging.WARNING)
    from tests.support import make_app, sign_in

    app = make_app("http://127.0.0.1:9")  # no vendor call is made
    try:
        started = time.perf_counter()
        fill(app, arguments.rows)
        print(f"{arguments.rows} register entries and audit records ({time.perf_counter() - started:.0f} s to "
              f"write), {'PostgreSQL' if arguments.database_url else 'SQLite'}; base RSS {resident_mb():.0f} MB")
        print(f"{'export':>8} {'rows':>8} {'MB':>7} {'seconds':>8} {'rows/s':>8} {'first ms':>9} {'RSS+ MB':>8} "
              f"{'heap MB':>8}")
        exports = (("register", "operator", "/register/export.csv"), ("audit", "admin", "/admin/audit.csv"))
        for name, role, url in exports:
            figures = measure(sign_in(app.test_client(), role), url)
            assert figures["rows"] == arguments.rows, figures
            print(f"{name:>8} {figures['rows']:>8} {figures['mb']:>7.1f} {figures['seconds']:>8.2f} "
                  f"{figures['rows'] / figures['seconds']:>8.0f} {figures['first_ms']:>9.1f} {figures['peak']:>8.1f} "
                  f"{figures['heap']:>8.1f}")
    finally:
        if arguments.database_url:
            from facesite.extensions import db

            with app.app_context():
                db.engine.dispose()
            drop_schema(os.environ["DATABASE_URL"])


if __name__ == "__main__":
    main()
