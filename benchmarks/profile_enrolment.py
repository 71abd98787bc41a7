"""Where the portal's CPU goes, per enrolment and per search (issue 14): the portal started by the
Procfile's web line with pyinstrument in every request thread (gunicorn_profiled.conf.py, sampling on
the thread's CPU clock), N enrolments and N searches one after another as a browser makes them (the
form, the POST, the result page), and a table of CPU per call grouped by what the time was spent on.

Each sample goes to the innermost frame on its stack that names a group (so the database work an audit
row causes is "audit rows", not "other"). A run of the same calls on an unprofiled portal gives the true
CPU per call (from /proc); the profiled figures are also shown scaled to it, as the profiler adds cost.
The upstream answers at once: thread CPU time does not count waiting for it anyway.

Run: .venv/bin/python benchmarks/profile_enrolment.py [--count 40] [--database sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_clients import portal_call, signed_in_cookies  # noqa: E402
from bench_servers import Database, server_cpu_seconds, start_portal, stop_server  # noqa: E402
from delayed_upstream import DelayedUpstream  # noqa: E402
from portal_overhead import jpeg_of_about  # noqa: E402

logging.getLogger("werkzeug").setLevel(logging.ERROR)
PROFILED_CONFIG = str(Path(__file__).with_name("gunicorn_profiled.conf.py"))
SKIP = {"X-Profile-Skip": "1"}
# (group, where: a path fragment of the frame's file, and optionally its function names). The first
# group whose rule matches a frame, walking from the innermost frame outwards, gets the sample.
GROUPS = [
    ("multipart parsing", "werkzeug/formparser.py", None),
    ("multipart parsing", "werkzeug/sansio/multipart.py", None),
    ("multipart parsing", "werkzeug/wrappers/request.py", {"_load_form_data", "get_data"}),
    ("picture check & metadata stripping/preparation", "facesite/pictures/image_rules.py", None),
    ("picture check & metadata stripping/preparation", "facesite/pictures/preparation.py", None),
    ("picture check & metadata stripping/preparation", "facesite/pictures/decoding.py", None),
    ("picture check & metadata stripping/preparation", "facesite/web/picture_field.py", None),
    ("kept picture (drafts)", "facesite/drafts.py", None),
    ("submission claim / outcome", "facesite/web/submissions.py", None),
    ("submission claim / outcome", "facesite/faces/results.py", None),
    ("audit rows", "facesite/audit.py", None),
    ("register entry & thumbnail", "facesite/faces/register.py", None),
    ("sign-in / session / CSRF / rate limit", "facesite/access/", None),
    ("sign-in / session / CSRF / rate limit", "facesite/web/security.py", {"user_or_address"}),
    ("security headers, host check", "facesite/web/security.py",
     {"redirect_to_https", "no_store", "host_is_usable", "content_security_policy"}),  # not the middleware
    ("security headers, host check", "flask_talisman/", None),
    ("sign-in / session / CSRF / rate limit", "facesite/security_events.py", None),
    ("sign-in / session / CSRF / rate limit", "flask_login/", None),
    ("sign-in / session / CSRF / rate limit", "flask_limiter/", None),
    ("sign-in / session / CSRF / rate limit", "/limits/", None),
    ("sign-in / session / CSRF / rate limit", "flask_wtf/csrf.py", None),
    ("sign-in / session / CSRF / rate limit", "flask/sessions.py", None),
    ("template rendering", "jinja2/", None),
    ("template rendering", "flask/templating.py", None),
    ("redirect", "werkzeug/utils.py", {"redirect"}),
    ("redirect", "flask/helpers.py", {"redirect", "url_for"}),
    ("vendor call (requests)", "facesite/advance/", None),
    ("vendor call (requests)", "facesite/upstream.py", None),
    ("vendor call (requests)", "requests/", None),
    ("vendor call (requests)", "urllib3/", None),
    ("face-set catalogue, form fields", "facesite/faces/catalogue.py", None),
    ("face-set catalogue, form fields", "facesite/web/form_fields.py", None),
    ("face-set catalogue, form fields", "facesite/faces/person.py", None),
    ("face-set catalogue, form fields", "wtforms/", None),
]
ORDER = list(dict.fromkeys(group for group, _, _ in GROUPS)) + ["other (Flask, SQLAlchemy, ... outside the above)"]


def frame(info: str) -> tuple[str, str]:
    """(function, file) of one of pyinstrument's frame identifiers."""
    function, file, _ = info.split("\x01", 1)[0].split("\x00")
    return function, file


def group_of(stack: list[str]) -> str:
    frames = [frame(info) for info in reversed(stack)]
    in_template = any("jinja2/" in file for _, file in frames)
    for function, file in frames:
        for group, where, functions in GROUPS:
            if where in file and (functions is None or function in functions):
                # url_for inside a page is template work, not the redirect
                return "template rendering" if group == "redirect" and in_template else group
    return ORDER[-1]


def innermost_facesite(stack: list[str]) -> str:
    """The innermost facesite function, or the library at the top of the stack when the
    only facesite frames are those every request passes through (the worker, the host check)."""
    frames = [frame(info) for info in reversed(stack)]
    for function, file in frames:
        every_request = "/serving/" in file or (file.endswith("security.py") and function == "__call__")
        if "/facesite/" in file and not every_request:
            return f"{file.split('/facesite/', 1)[1]}:{function}"
    file = next((file for _, file in frames if file.startswith("/")), "?")  # past <built-in> frames
    where = file.split("site-packages/", 1)[1].split("/")[0] if "site-packages/" in file else Path(file).name
    return f"(library) {where}"


def read_profiles(folder: str) -> tuple[collections.Counter, list]:
    requests_seen, records = collections.Counter(), []
    for path in Path(folder).glob("worker-*.json"):
        dumped = json.loads(path.read_text())
        requests_seen.update(dumped["requests"])
        records += dumped["records"]
    return requests_seen, records


def run_calls(portal: str, picture: bytes, call: str, count: int, cookies: dict, server) -> float:
    """``count`` calls one after another, after two unmeasured ones: CPU ms per call of the server."""
    warm = requests.Session()
    warm.headers.update(SKIP)
    requests.utils.add_dict_to_cookiejar(warm.cookies, cookies)
    for _ in range(2):
        portal_call(portal, call, picture, {"session": warm})
    state = {"cookies": cookies}
    before = server_cpu_seconds(server)
    for _ in range(count):
        failed = portal_call(portal, call, picture, state) - collections.Counter(ok=1, posted=1, accepted=1)
        if +failed:
            print(f"  {call} failed: {dict(failed)}", file=sys.stderr)
    return (server_cpu_seconds(server) - before) * 1000 / count


def measure(upstream: DelayedUpstream, picture: bytes, count: int, database_kind: str, scratch: str,
            config: str | None) -> dict:
    """CPU ms per enrolment and per search on a fresh portal (profiled when ``config`` is given)."""
    instance = os.path.join(scratch, "profiled" if config else "plain")
    database = Database(database_kind, instance)
    try:
        portal, server = start_portal(upstream.url, instance, database, config,
                                      {"PROFILE_DIR": scratch} if config else None)
        try:
            with requests.Session() as signing_in:
                signing_in.headers.update(SKIP)
                cookies = signed_in_cookies(portal, signing_in)
            return {call: run_calls(portal, picture, call, count, cookies, server) for call in ("add_face", "search")}
        finally:
            stop_server(server)
    finally:
        database.drop()


def table(records: list, requests_seen: collections.Counter, count: int, plain: dict, profiled: dict) -> str:
    calls = {"add_face": "/enrol/", "search": "/search/"}
    cpu = {call: collections.Counter() for call in calls}
    for kind, stack, seconds in records:
        for call, prefix in calls.items():
            if kind.split(" ", 1)[1].startswith(prefix):
                cpu[call][group_of(stack)] += seconds * 1000 / count
    lines = ["| where the CPU goes | per enrolment, ms (profiled) | share | scaled to unprofiled, ms "
             "| per search, ms (profiled) | share | scaled, ms |", "|---|---|---|---|---|---|---|"]
    totals = {call: sum(cpu[call].values()) for call in calls}
    for group in ORDER + ["outside request threads (serving worker's event loop, gunicorn)"]:
        cells = []
        for call in calls:
            ms = cpu[call][group] if group in ORDER else max(profiled[call] - totals[call], 0)
            share = ms / profiled[call]
            cells += [f"{ms:.1f}", f"{share:.0%}", f"{share * plain[call]:.1f}"]
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    lines.append("| **total (server processes, /proc)** | " + " | ".join(
        f"{profiled[call]:.1f} | 100% | {plain[call]:.1f}" for call in calls) + " |")
    lines.append("")
    lines.append("Requests profiled: " + ", ".join(f"{kind} x{n}" for kind, n in sorted(requests_seen.items())))
    return "\n".join(lines)


def by_request_and_function(records: list, count: int, top: int) -> str:
    per_request, per_function = collections.Counter(), collections.Counter()
    for kind, stack, seconds in records:
        per_request[kind] += seconds * 1000 / count
        per_function[kind.split(" ")[1].split("/")[1], innermost_facesite(stack)] += seconds * 1000 / count
    lines = ["CPU per request kind (profiled ms per call):"]
    lines += [f"  {kind:32} {ms:6.1f}" for kind, ms in per_request.most_common()]
    lines.append(f"Innermost facesite function on the stack, top {top} (profiled ms per call):")
    lines += [f"  {area:7} {name:60} {ms:6.1f}" for (area, name), ms in per_function.most_common(top)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--count", type=int, default=40, help="enrolments and searches measured")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--megabytes", type=float, default=1.28, help="size of the JPEG sent")
    parser.add_argument("--top", type=int, default=25, help="facesite functions listed")
    args = parser.parse_args()
    picture = jpeg_of_about(args.megabytes)
    upstream = DelayedUpstream(0.0)
    with tempfile.TemporaryDirectory() as scratch:
        plain = measure(upstream, picture, args.count, args.database, scratch, None)
        profiled = measure(upstream, picture, args.count, args.database, scratch, PROFILED_CONFIG)
        requests_seen, records = read_profiles(scratch)
    print(f"{args.count} enrolments and {args.count} searches, one at a time, {len(picture) / 1e6:.2f} MB JPEG, "
          f"database {args.database}; CPU per call unprofiled: enrolment {plain['add_face']:.1f} ms, "
          f"search {plain['search']:.1f} ms (from /proc, 10 ms ticks)\n")
    print(table(records, requests_seen, args.count, plain, profiled))
    print()
    print(by_request_and_function(records, args.count, args.top))


if __name__ == "__main__":
    main()
