"""A batch job outlives the process running it: killed mid-job, it resumes where it was, and no row
is enrolled twice. Once with the Procfile's web process (jobs on its own threads, SQLite), once with
the Procfile's RQ workers on Redis and PostgreSQL."""
from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections import Counter

import requests

from facesite.extensions import db
from facesite.models import BatchRow
from facesite.sandbox.launcher import free_port, wait_until_up
from tests.support import PASSWORD, face, make_app, sign_in
from tests.support.batch_files import make_manifest, make_zip, read_csv
from tests.support.servers import ServerThread, SlowUpstream, kill_process, procfile_command, start_process
from tests.test_batch import BatchPage

ROWS = 24
UPSTREAM_DELAY = 0.4  # seconds each face call waits: rows are in flight whenever the process dies


def upload_faces(face_set_id: str) -> tuple[bytes, bytes]:
    people = ("obama.jpg", "biden.jpg", "obama2.jpg")
    files = {f"p{i:02}.jpg": face(people[i % 3]) for i in range(ROWS)}
    rows = [{"faceSetId": face_set_id, "faceImage": f"p{i:02}.jpg", "externalReferenceId": f"RESUME-{i:02}",
             "name": f"Person {i}"} for i in range(ROWS)]
    return make_zip(files), make_manifest(rows)


def wait_for(progress, condition, timeout=120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = progress()
        if condition(state):
            return state
        time.sleep(0.2)
    raise AssertionError(f"still {state} after {timeout} s")


def rows_in_flight(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).where(BatchRow.state == "sending"))


def assert_each_row_enrolled_once(results: list[dict], in_flight_at_kill: int, references: list[str]) -> None:
    """Every row is enrolled or left for a person to check, and the vendor holds no face twice."""
    outcomes = Counter(row["result"] for row in results)
    assert outcomes == +Counter({"done": ROWS - in_flight_at_kill, "unknown": in_flight_at_kill}), outcomes
    in_vendor = Counter(references)
    assert max(in_vendor.values()) == 1, f"enrolled twice: {[r for r, n in in_vendor.items() if n > 1]}"
    done = {row["externalReferenceId"] for row in results if row["result"] == "done"}
    unknown = {row["externalReferenceId"] for row in results if row["result"] == "unknown"}
    assert done <= set(in_vendor) <= done | unknown


def http_sign_in(session: requests.Session, url: str, username="otto") -> None:
    form = session.get(url + "/auth/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]*)"', form).group(1)
    answer = session.post(url + "/auth/login", timeout=10,
                          data={"csrf_token": token, "username": username, "password": PASSWORD})
    assert answer.ok and username in answer.text


def run_procfile_portal_and_stop_it(sandbox, face_set_id: str, stop_signal) -> tuple[int, dict, list[dict]]:
    """Upload and start a job on the Procfile's web process, stop the process with ``stop_signal``
    mid-job, start it again and let the job finish. Returns (rows "sending" when it stopped,
    final progress, results)."""
    upstream = ServerThread(SlowUpstream(sandbox.app, UPSTREAM_DELAY))
    app = make_app(upstream.url)  # the accounts, in the instance folder the Procfile's portal uses too
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORT": str(port), "ADVANCE_BASE_URL": upstream.url, "WEB_CONCURRENCY": "1",
           "BATCH_SWEEP_SECONDS": "1", "BATCH_LEASE_SECONDS": "20", "RATE_LIMIT_LOGIN": "100 per minute"}
    portal = start_process(procfile_command("web"), env)
    try:
        wait_until_up(url, timeout=60, process=portal)
        browser = requests.Session()
        http_sign_in(browser, url)
        form = browser.get(url + "/batch/new", timeout=10).text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]*)"', form).group(1)
        archive, manifest = upload_faces(face_set_id)
        uploaded = browser.post(url + "/batch/new", data={"csrf_token": token, "faceSetId": face_set_id}, timeout=60,
                                files={"archive": ("people.zip", archive), "manifest": ("people.csv", manifest)})
        job_url = uploaded.url

        def progress():
            return browser.get(job_url + "/progress", timeout=10).json()

        wait_for(progress, lambda p: p["state"] == "review")  # its photos checked
        assert f"{ROWS} rows ready to send" in browser.get(job_url, timeout=10).text
        assert browser.post(job_url + "/start", data={"csrf_token": token}, timeout=10).ok

        wait_for(progress, lambda p: p["done"] >= 6)
        kill_process(portal, stop_signal)
        in_flight = rows_in_flight(app)
        with app.app_context():
            left = db.session.scalar(db.select(db.func.count()).where(BatchRow.state == "pending"))
        assert left > 0, "the job should not have been finished by the stopped portal"
        portal = start_process(procfile_command("web"), env)
        wait_until_up(url, timeout=60, process=portal)
        final = wait_for(progress, lambda p: p["state"] == "finished")  # the same session: nobody signs in again
        results = read_csv(browser.get(job_url + "/results.csv", timeout=10).content)
    finally:
        kill_process(portal)
        upstream.stop()
    return in_flight, final, results


def test_killed_web_process_resumes_its_job_without_enrolling_anyone_twice(sandbox, face_set):
    in_flight, final, results = run_procfile_portal_and_stop_it(sandbox, face_set, signal.SIGKILL)
    assert in_flight >= 1, "the portal should have died with rows on their way"
    assert final["unknown"] == in_flight
    assert_each_row_enrolled_once(results, in_flight, sandbox.store.external_references(face_set))


def test_a_portal_stopped_for_a_deploy_leaves_no_row_to_check(sandbox, face_set):
    """SIGTERM (a deploy, a restart): the calls in flight finish and the job is handed back."""
    in_flight, final, results = run_procfile_portal_and_stop_it(sandbox, face_set, signal.SIGTERM)
    assert in_flight == 0 and final["unknown"] == 0 and final["done"] == ROWS
    assert_each_row_enrolled_once(results, 0, sandbox.store.external_references(face_set))


def run_rq_workers_and_stop_one(sandbox, face_set_id: str, stop_signal, postgres_url, redis_url):
    """The web process queues a job for the Procfile's RQ worker on PostgreSQL; the worker is stopped
    with ``stop_signal`` mid-job and two new workers finish it. Returns as run_procfile_portal_and_stop_it."""
    upstream = ServerThread(SlowUpstream(sandbox.app, UPSTREAM_DELAY))
    queue = f"facesite-test-{uuid.uuid4().hex[:8]}"
    shared = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url}
    app = make_app(upstream.url, shared, BATCH_QUEUE=queue)  # the web process: it only queues jobs
    assert app.config["BATCH_RUNNER"] == "rq"
    env = {**os.environ, **shared, "ADVANCE_BASE_URL": upstream.url, "BATCH_QUEUE": queue, "BATCH_SWEEP_SECONDS": "1",
           "BATCH_LEASE_SECONDS": "5"}
    workers = [start_process(procfile_command("worker"), env)]
    stopped = workers[0]
    try:
        batch = BatchPage(sign_in(app.test_client()))
        archive, manifest = upload_faces(face_set_id)
        job_id = batch.job_id(batch.upload(archive, manifest, face_set=face_set_id))
        batch.act(job_id, "start")
        wait_for(lambda: batch.progress(job_id), lambda p: p["done"] >= 6)
        kill_process(workers.pop(), stop_signal)
        in_flight = rows_in_flight(app)
        assert batch.progress(job_id)["left"] > 0, "the job should not have been finished by the stopped worker"
        # Two new workers on the same queue: one takes the job over, the other finds it held.
        workers = [start_process(procfile_command("worker"), env) for _ in range(2)]
        final = wait_for(lambda: batch.progress(job_id), lambda p: p["state"] == "finished")
        results = batch.results(job_id)
    finally:
        for worker in workers:
            kill_process(worker)
        upstream.stop()
    log = "".join(line for worker in workers + [stopped] for line in worker.log_lines)
    assert "Traceback" not in log, log
    return in_flight, final, results


def test_rq_workers_on_postgresql_resume_a_killed_workers_job(sandbox, face_set, postgres_url, redis_url):
    in_flight, final, results = run_rq_workers_and_stop_one(sandbox, face_set, signal.SIGKILL,
                                                            postgres_url, redis_url)
    assert in_flight >= 1, "the worker should have died with rows on their way"
    assert final["unknown"] == in_flight
    assert_each_row_enrolled_once(results, in_flight, sandbox.store.external_references(face_set))


def test_an_rq_worker_stopped_for_a_deploy_hands_its_job_back(sandbox, face_set, postgres_url, redis_url):
    in_flight, final, results = run_rq_workers_and_stop_one(sandbox, face_set, signal.SIGTERM,
                                                            postgres_url, redis_url)
    assert in_flight == 0 and final["unknown"] == 0 and final["done"] == ROWS
    assert_each_row_enrolled_once(results, 0, sandbox.store.external_references(face_set))
