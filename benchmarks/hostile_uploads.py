"""Peak worker memory while the hostile inputs of issue 11 (cases 1-3) arrive at once. Prints figures.

The portal is started by its Procfile web line (gunicorn, WEB_CONCURRENCY workers, SQLite, the embedded
sandbox), staff sign in over HTTP, and these run side by side:

- case 1: the 20 KB ZIP whose 40 manifest rows all name one 20 MB zero-filled ``p.jpg`` (batch upload);
- case 2: two concurrent viewer searches with a 264 KB 8000 x 7990 RGBA PNG, then two with a
  7000 x 7000 RGBA PNG and two with a 4900 x 4900 one (just inside the budget: really decoded);
- case 3: a 200 MB manifest beside a small ZIP, a ZIP of 200,000 entries, and a register CSV export.

It prints each request's answer and time, then every worker's resident memory before, at its peak
(sampled every 10 ms) and after, and how much the database grew.

Run: .venv/bin/python benchmarks/hostile_uploads.py [--workers N]
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.batch_upload_budget import (PASSWORD, PeakMemory, database_bytes, hidden, members_upload,  # noqa: E402
                                            resident_mb, start_web, zeros_upload)
from facesite.sandbox.launcher import free_port  # noqa: E402
from tests.support.pictures import giant_png  # noqa: E402


def start_portal(instance: str, workers: int):
    env = {**os.environ, "PORT": str(free_port()), "INSTANCE_PATH": instance, "WEB_CONCURRENCY": str(workers),
           "SANDBOX_DB": os.path.join(instance, "sandbox.sqlite3"), "LOG_LEVEL": "WARNING",
           "FACESITE_PASSWORD": PASSWORD, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return start_web(ROOT, env, instance, {"bench.viewer": "viewer", "bench.operator": "operator"})


def signed_in(url: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(url + "/auth/login", timeout=30).text
    session.post(url + "/auth/login", timeout=30,
                 data={"csrf_token": hidden(page, "csrf_token"), "username": username, "password": PASSWORD})
    return session


def gunicorn_workers(master: int) -> list[int]:
    pids = [int(pid) for path in Path(f"/proc/{master}/task").glob("*/children") for pid in path.read_text().split()]
    return [pid for pid in pids if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def search(url: str, session: requests.Session, picture: bytes, results: list, label: str) -> None:
    form = session.get(url + "/search/", timeout=60).text
    started = time.perf_counter()
    answer = session.post(url + "/search/", timeout=300, allow_redirects=False, data={
        "csrf_token": hidden(form, "csrf_token"), "submissionId": hidden(form, "submissionId"),
        "faceSetId": "demo", "topK": "5", "threshold": "80"}, files={"faceImage": ("big.png", picture, "image/png")})
    results.append(f"{label:<34} {answer.status_code} {time.perf_counter() - started:6.2f} s")


def batch(url: str, session: requests.Session, archive: bytes, manifest: bytes | None, results: list,
          label: str) -> None:
    form = session.get(url + "/batch/new", timeout=60).text
    files = {"archive": ("upload.zip", archive)}
    if manifest is not None:
        files["manifest"] = ("manifest.csv", manifest)
    started = time.perf_counter()
    answer = session.post(url + "/batch/new", timeout=600, allow_redirects=False, files=files,
                          data={"csrf_token": hidden(form, "csrf_token"), "faceSetId": "demo"})
    results.append(f"{label:<34} {answer.status_code} {time.perf_counter() - started:6.2f} s")


def export(url: str, session: requests.Session, results: list) -> None:
    started = time.perf_counter()
    with session.get(url + "/register/export.csv", timeout=120, stream=True) as answer:
        size = sum(len(chunk) for chunk in answer.iter_content(65536))
    results.append(f"{'register CSV export':<34} {answer.status_code} {time.perf_counter() - started:6.2f} s "
                   f"({size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    giant, large, inside = giant_png(8000, 7990), giant_png(7000, 7000), giant_png(4900, 4900)
    zeros, zeros_manifest = zeros_upload()
    members, _ = members_upload()
    small_zip, _ = zeros_upload()
    huge_manifest = b"faceImage,name\n" + b"p.jpg,Someone with a long name\n" * (200 * 1024 * 1024 // 30)
    instance = tempfile.mkdtemp(prefix="facesite-hostile-")
    portal, url = start_portal(instance, arguments.workers)
    try:
        viewer, operator = signed_in(url, "bench.viewer"), signed_in(url, "bench.operator")
        workers = gunicorn_workers(portal.pid)
        before = {pid: resident_mb(pid) for pid in workers}
        grown_from = database_bytes(instance)
        watchers = {pid: PeakMemory(pid) for pid in workers}
        for watcher in watchers.values():
            watcher.start()
        results: list[str] = []
        work = [(search, (url, viewer, giant, results, "case 2: 8000x7990 RGBA PNG")),
                (search, (url, viewer, giant, results, "case 2: 8000x7990 RGBA PNG")),
                (search, (url, viewer, large, results, "case 2': 7000x7000 RGBA PNG")),
                (search, (url, viewer, large, results, "case 2': 7000x7000 RGBA PNG")),
                (search, (url, viewer, inside, results, "case 2'': 4900x4900 RGBA PNG")),
                (search, (url, viewer, inside, results, "case 2'': 4900x4900 RGBA PNG")),
                (batch, (url, operator, zeros, zeros_manifest, results, "case 1: 40 rows x 20 MB of zeros")),
                (batch, (url, operator, small_zip, huge_manifest, results, "case 3: 200 MB manifest")),
                (batch, (url, operator, members, None, results, "case 3: 200,000 ZIP entries")),
                (export, (url, operator, results))]
        threads = [threading.Thread(target=target, args=args) for target, args in work]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(900)
        time.sleep(1)
        for watcher in watchers.values():
            watcher.done.set()
            watcher.join()
        print(f"Procfile web line, {arguments.workers} workers, SQLite, embedded sandbox")
        print("\n".join(sorted(results)))
        for pid in workers:
            print(f"worker {pid}: {before[pid]:.0f} MB before, peak {watchers[pid].peak:.0f} MB, "
                  f"{resident_mb(pid):.0f} MB after")
        print(f"database grew {(database_bytes(instance) - grown_from) / 1024 / 1024:.1f} MB")
    finally:
        os.killpg(portal.pid, signal.SIGTERM)
        portal.wait(timeout=60)


if __name__ == "__main__":
    main()
