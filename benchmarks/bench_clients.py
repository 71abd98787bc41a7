"""The clients of the portal benchmarks: one Add Face or Search call to each target (the upstream
itself, the reference forwarder, the portal as a browser drives it), and the load generator that
runs many of them at once from several processes.

Each call returns a Counter of what happened: "ok" for a call that did what it should; "5xx" or
"http <status>" for an answer that was not; "posted" and "accepted" (portal enrolments: the POST
was sent, and answered 303) so that lost enrolments can be told from the register afterwards.
"""
from __future__ import annotations

import collections
import multiprocessing
import re
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import requests
from bench_servers import BENCH_PASSWORD, BENCH_USER

from facesite import advance
from facesite.sandbox.keys import sandbox_credentials

FACE_SET = "demo"
# What staff fill in on the enrol form besides the picture (the portal makes up externalReferenceId).
ENROL_DETAILS = {"name": "Bench Mark", "country": "SG", "idCardType": "", "idNumber": "", "externalReferenceId": ""}
CALLS = ("add_face", "search")
TIMEOUT = 120


def status_label(status: int) -> str:
    return "5xx" if status >= 500 else f"http {status}"


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html).group(1)


def signed_in_cookies(portal: str, session: requests.Session | None = None, refused: list | None = None) -> dict:
    """A session's cookies after signing in. A refused sign-in is tried again (a few times): many
    sign-ins to one account at once can be refused as "too many failed sign-ins" on PostgreSQL."""
    session = session or requests.Session()
    for _ in range(10):
        login = session.get(portal + "/auth/login", timeout=TIMEOUT).text
        answer = session.post(portal + "/auth/login", timeout=TIMEOUT, data={
            "csrf_token": hidden(login, "csrf_token"), "username": BENCH_USER, "password": BENCH_PASSWORD})
        if "/auth/login" not in answer.url:
            return requests.utils.dict_from_cookiejar(session.cookies)
        if refused is not None:
            refused.append(answer.status_code)
    raise RuntimeError(f"the portal did not sign {BENCH_USER} in")


def signed_in_staff(portal: str, how_many: int) -> list[dict]:
    """Session cookies of ``how_many`` separate sign-ins (each client is its own member of staff)."""
    refused = []
    with ThreadPoolExecutor(16) as pool:
        staff = list(pool.map(lambda _: signed_in_cookies(portal, refused=refused), range(how_many)))
    if refused:
        print(f"  {how_many} sign-ins in parallel: {len(refused)} refusals (HTTP "
              f"{', '.join(map(str, sorted(set(refused))))}) before all were signed in by trying again", flush=True)
    return staff


def portal_call(portal: str, call: str, picture: bytes, state: dict) -> collections.Counter:
    """Like a browser: the form, the POST, and the result page the 303 sends it to."""
    session = state.get("session")
    if session is None:
        session = state["session"] = requests.Session()
        requests.utils.add_dict_to_cookiejar(session.cookies, state["cookies"])
    page = "/enrol/" if call == "add_face" else "/search/"
    form = session.get(portal + page, timeout=TIMEOUT)
    if form.status_code != 200:
        return collections.Counter([status_label(form.status_code)])
    fields = {name: hidden(form.text, name) for name in ("csrf_token", "submissionId")}
    fields.update(ENROL_DETAILS if call == "add_face" else {"topK": "", "threshold": ""}, faceSetId=FACE_SET)
    happened = collections.Counter(posted=call == "add_face")
    answer = session.post(portal + page, data=fields, allow_redirects=False, timeout=TIMEOUT,
                          files={"faceImage": ("face.jpg", picture, "image/jpeg")})
    if answer.status_code != 303:
        return happened + collections.Counter([status_label(answer.status_code)])
    happened["accepted"] += call == "add_face"
    result = session.get(portal + answer.headers["Location"], timeout=TIMEOUT)
    return happened + collections.Counter(["ok" if result.status_code == 200 else status_label(result.status_code)])


def forwarder_call(forwarder: str, call: str, picture: bytes, state: dict) -> collections.Counter:
    session = state.setdefault("session", requests.Session())
    path, fields = ("/facereferences", ENROL_DETAILS) if call == "add_face" else ("/search", {})
    answer = session.post(forwarder + path, data={**fields, "faceSetId": FACE_SET}, timeout=TIMEOUT,
                          files={"faceImage": ("face.jpg", picture, "image/jpeg")})
    return collections.Counter(["ok" if answer.status_code == 200 else status_label(answer.status_code)])


def direct_call(upstream: str, call: str, picture: bytes, state: dict) -> collections.Counter:
    if "client" not in state:
        access_key, secret_key = sandbox_credentials()
        state["client"] = advance.AdvanceClient(upstream, access_key=access_key, secret_key=secret_key,
                                                read_timeout=TIMEOUT, pool_size=4)
    if call == "add_face":
        state["client"].add_face(FACE_SET, picture, filename="face.jpg", mime_type="image/jpeg",
                                 details={"name": "Bench Mark", "country": "SG"})
    else:
        state["client"].search(FACE_SET, picture, filename="face.jpg", mime_type="image/jpeg")
    return collections.Counter(["ok"])


def _client_threads(states: list[dict], seconds: float, call) -> tuple[collections.Counter, float]:
    """A thread per state looping ``call`` until ``seconds`` have passed; the calls under way then are
    finished and counted, and the time they took is included: (what happened, elapsed seconds)."""
    tallies = [collections.Counter() for _ in states]
    ready = threading.Barrier(len(states) + 1)
    window = {"end": time.monotonic() + 3600}

    def worker(index):
        state = dict(states[index])
        ready.wait()
        while time.monotonic() < window["end"]:
            try:
                tallies[index] += call(state)
            except Exception as error:  # counted, not fatal: the figure must show failures
                label = f"error {type(error).__name__}"
                if not any(t[label] for t in tallies):
                    print(f"  first {label}: {error}", file=sys.stderr)
                tallies[index][label] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(len(states))]
    for thread in pool:
        thread.start()
    ready.wait()
    started = time.monotonic()
    window["end"] = started + seconds
    for thread in pool:
        thread.join()
    return sum(tallies, collections.Counter()), time.monotonic() - started


def run_clients(states: list[dict], seconds: float, call, processes: int = 4) -> tuple[float, collections.Counter]:
    """A client per state, looping ``call`` for ``seconds``, spread over a few processes so that the
    load generator's own GIL does not become what is measured: (successful calls per second, tally)."""
    shares = [states[i::processes] for i in range(processes)]
    with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_client_threads, shares, [seconds] * processes, [call] * processes))
    # Each process's successful calls over the time its own calls took.
    return sum(tally["ok"] / elapsed for tally, elapsed in results), sum((r[0] for r in results), collections.Counter())
