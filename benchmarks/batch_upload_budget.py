"""What hostile batch uploads cost the portal: peak memory and bytes written to the database. Prints figures.

The portal is started as the Procfile starts it (gunicorn, one worker, SQLite in a fresh instance folder),
an operator signs in over HTTP and uploads, and the job is followed until its pictures are checked (or
the upload is refused). Two uploads (issue 11, cases 1 and 3):

- ``zeros``: a ZIP of a few KB holding one 20 MB zero-filled ``p.jpg``, with a manifest of 40 rows
  that all name ``p.jpg``;
- ``members``: a ZIP of 200,000 empty entries (no manifest: each file would become a row).

For each: the answer's status and time, the worker's peak resident memory (sampled every 10 ms) and
its memory before the upload, and how much the database grew (SQLite file + WAL).

Run: .venv/bin/python benchmarks/batch_upload_budget.py [--root DIR] [--set NAME=VALUE ...]
     DIR: another checkout to measure (e.g. ``git archive HEAD | tar -x -C /tmp/head``; default this one);
     --set: a setting for the portal, e.g. --set BATCH_MAX_COMPRESSION_RATIO=1000000 to see what happens
     past the first limit.
"""
from __future__ import annotations

import argparse
import io
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from facesite.sandbox.launcher import free_port, wait_until_up  # noqa: E402

PASSWORD = "benchmark-password"
ZERO_MEGABYTES = 20
ZERO_ROWS = 40
MEMBERS = 200_000


def zeros_upload() -> tuple[bytes, bytes]:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("p.jpg", bytes(ZERO_MEGABYTES * 1024 * 1024))
    manifest = "faceImage,name\n" + "".join(f"p.jpg,Person {i}\n" for i in range(ZERO_ROWS))
    return out.getvalue(), manifest.encode()


def members_upload() -> tuple[bytes, None]:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for i in range(MEMBERS):
            archive.writestr(f"{i:06}.jpg", b"")
    return out.getvalue(), None


def resident_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def worker_pid(master: int) -> int:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = [int(pid) for path in Path(f"/proc/{master}/task").glob("*/children")
                    for pid in path.read_text().split()]
        if children:
            return children[0]
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


class PeakMemory(threading.Thread):
    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, resident_mb(pid), threading.Event()

    def run(self):
        while not self.done.wait(0.01):
            self.peak = max(self.peak, resident_mb(self.pid))


def database_bytes(instance: str) -> int:
    return sum(os.path.getsize(path) for path in (os.path.join(instance, "facesite.sqlite3"),
                                                  os.path.join(instance, "facesite.sqlite3-wal"))
               if os.path.exists(path))


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def start_web(root: Path, env: dict, instance: str, users: dict[str, str]):
    """Create the users (name -> role, password FACESITE_PASSWORD in ``env``), then start the Procfile's web
    line with ``env`` and wait until it answers: (process, base URL)."""
    for user, role in users.items():
        subprocess.run([sys.executable, "-m", "flask", "--app", "app", "create-user", user, "--role", role],
                       cwd=root, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    line = next(l for l in (root / "Procfile").read_text().splitlines() if l.startswith("web:"))
    log = open(os.path.join(instance, "portal.log"), "w")
    portal = subprocess.Popen(shlex.split(line.split(":", 1)[1]), cwd=root, env=env, start_new_session=True,
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        wait_until_up(url, timeout=90, process=portal)
    except Exception:
        os.killpg(portal.pid, signal.SIGTERM)
        raise
    return portal, url


def measure(root: Path, name: str, archive: bytes, manifest: bytes | None, settings: dict) -> str:
    instance = tempfile.mkdtemp(prefix="facesite-upload-budget-")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "INSTANCE_PATH": instance, "WEB_CONCURRENCY": "1",
           "ADVANCE_BASE_URL": "http://127.0.0.1:9", "LOG_LEVEL": "WARNING", "FACESITE_PASSWORD": PASSWORD,
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", **settings}
    portal, url = start_web(root, env, instance, {"bench": "operator"})
    try:
        session = requests.Session()
        login = session.get(url + "/auth/login", timeout=30).text
        session.post(url + "/auth/login", timeout=30,
                     data={"csrf_token": hidden(login, "csrf_token"), "username": "bench", "password": PASSWORD})
        form = session.get(url + "/batch/new", timeout=30).text
        worker = worker_pid(portal.pid)
        before_mb, before_bytes = resident_mb(worker), database_bytes(instance)
        memory = PeakMemory(worker)
        memory.start()
        files = {"archive": ("upload.zip", archive)}
        if manifest is not None:
            files["manifest"] = ("manifest.csv", manifest)
        started = time.perf_counter()
        answer = session.post(url + "/batch/new", data={"csrf_token": hidden(form, "csrf_token"), "faceSetId": "demo"},
                              files=files, allow_redirects=False, timeout=600)
        seconds = time.perf_counter() - started
        outcome = str(answer.status_code)
        if answer.status_code == 303:  # accepted: follow the background check to its end
            job = url + answer.headers["Location"] if answer.headers["Location"].startswith("/") \
                else answer.headers["Location"]
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                progress = session.get(job + "/progress", timeout=30).json()
                if progress["state"] not in ("uploading", "checking"):
                    break
                time.sleep(0.2)
            outcome += f" → {progress['state']} ({progress['skipped']} of {progress['rows']} rows skipped)"
        else:
            problem = re.search(r'<section class="problem"[^>]*>.*?<p>(.*?)</p>', answer.text, re.S)
            outcome += ": " + (problem.group(1).strip()[:90] if problem else "?")
        memory.done.set()
        memory.join()
        grown = (database_bytes(instance) - before_bytes) / 1024 / 1024
        return (f"{name:>8} {len(archive) / 1024:>9.0f} {seconds:>8.2f} {before_mb:>9.0f} {memory.peak:>9.0f} "
                f"{grown:>10.1f}  {outcome}")
    finally:
        os.killpg(portal.pid, signal.SIGTERM)
        portal.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose portal is measured")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a setting for the portal")
    arguments = parser.parse_args()
    settings = dict(item.split("=", 1) for item in arguments.set)
    print(f"portal from {arguments.root}, gunicorn with one worker, SQLite; settings {settings or 'default'}")
    print(f"{'upload':>8} {'ZIP KB':>9} {'answer s':>8} {'base MB':>9} {'peak MB':>9} {'DB grew MB':>10}  outcome")
    for name, (archive, manifest) in (("zeros", zeros_upload()), ("members", members_upload())):
        print(measure(arguments.root.resolve(), name, archive, manifest, settings), flush=True)


if __name__ == "__main__":
    main()
