"""The portal under fuzz: served over real HTTP on loopback, used as each role, every answer checked.

Every request the fuzz sends goes through ``FuzzPortal.send``, which counts it and checks its answer:
no 5xx but the vendor-fault pages (502/503/504 with the problem section, for a request that reached
the scripted vendor while a fault was scripted), no error or traceback in the log, no secret in the
answer's headers or body, and an answer at all. What breaks is collected as findings, not raised, so
one run reports everything it found.
"""
from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections import Counter, defaultdict

from sqlalchemy import inspect, text
from werkzeug.security import generate_password_hash

from tests.support import PASSWORD, STAFF
from tests.support.fuzz_client import AUTO, Answer, CookieJar, exchange, request_bytes
from tests.support.fuzz_findings import Finding, LogWatch
from tests.support.servers import FakeVendor, ServerThread, envelope

ROLES = ("anonymous", "viewer", "operator", "admin")
# The staff's password under a fast hash: the fuzz signs in again whenever it has signed itself out,
# and the portal's own (scrypt, slow on purpose) would make that most of the run's time.
FAST_HASH = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
VENDOR_FAULT_STATUSES = (502, 503, 504)
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class FuzzVendor(FakeVendor):
    """The scripted fake vendor, giving every added face an id of its own (as the real one does), so
    the register never sees the same face twice however many faces the fuzz adds."""

    def __init__(self):
        self.face_ids = itertools.count(1000)
        super().__init__()

    def _answer(self, script, default):
        if script is self.add_face and not script:
            default = envelope(data=str(next(self.face_ids)))
        return FakeVendor._answer(script, default)


class FuzzPortal:
    def __init__(self, app, vendor, identity_headers=None, secrets=(), staff=STAFF):
        self.app, self.vendor = app, vendor
        self.server = ServerThread(app)
        self.port = self.server.server.port
        # header sign-on: the headers that make a request a role's; built-in: a session cookie per role
        self.identity_headers = identity_headers
        self.staff = staff  # role -> username
        self.jars = {role: CookieJar() for role in ROLES}
        self.tokens: dict[str, str] = {}  # a CSRF token of each role's session, from its last page
        self.forms: dict[str, list] = {}  # role -> (page, index of the form on it, the form), see discover_forms
        self.stale = set() if identity_headers else set(ROLES) - {"anonymous"}
        self.secrets = {"SECRET_KEY": app.config["SECRET_KEY"], "PASSWORD": PASSWORD, "vendor token": "fake-token-",
                        **dict(secrets)}
        self.sent = self.server_errors = self.vendor_fault_pages = self.sign_ins = 0
        self.slowest: list[tuple[float, str]] = []  # the slowest answers, for the report
        self.unchecked = None  # the last answer, checked by settle()
        self.statuses: dict[str, Counter] = defaultdict(Counter)  # route -> status -> answers (what was reached)
        self.findings: dict[tuple, Finding] = {}
        self.fault_scripted = False
        self.log = LogWatch()
        logging.getLogger().addHandler(self.log)
        self._old_excepthook, threading.excepthook = threading.excepthook, self.log.thread_died
        self.rules = sorted(((rule.rule, sorted(rule.methods), rule.endpoint) for rule in app.url_map.iter_rules()))

    def stop(self):
        threading.excepthook = self._old_excepthook
        logging.getLogger().removeHandler(self.log)
        self.server.stop()

    def script_vendor(self, answer) -> None:
        """The vendor's next Add Face and Search answer ``answer``; None: SUCCESS, and nothing scripted."""
        self.vendor.add_face.clear()
        self.vendor.search.clear()
        self.fault_scripted = answer is not None
        if answer is not None:
            self.vendor.add_face.append(answer)
            self.vendor.search.append(answer)

    # -- sending --------------------------------------------------------------------------------------

    def send(self, role, method, target, headers=(), body=b"", content_length=AUTO, version=b"HTTP/1.1",
             what="") -> Answer:
        headers = list(headers)
        names = {str(name).lower() for name, _ in headers}
        if "host" not in names:
            headers.insert(0, ("Host", f"127.0.0.1:{self.port}"))
        if self.identity_headers is not None:
            headers += self.identity_headers.get(role, [])
        if self.jars[role].cookies:  # (behind the proxy too: the session holds the CSRF secret)
            headers.append(("Cookie", self.jars[role].header()))
        self.settle()
        calls_before, logged_before = len(self.vendor.requests), len(self.log.records)
        started = time.monotonic()
        answer = exchange("127.0.0.1", self.port, request_bytes(method, target, headers, body, content_length, version),
                          method=method)
        self.sent += 1
        self.slowest = sorted(self.slowest + [(time.monotonic() - started, f"{answer.status} {role}: {method} "
                                                                            f"{str(target)[:80]!r} {what[:200]}")])[-5:]
        if "cookie" not in names:  # the fuzz's own cookies are not this role's session
            self.jars[role].update(answer)
            self.remember_token(role, answer)
        # a 502/503/504 may be the vendor-fault page only when a fault was scripted and the vendor was called
        fault_reached = self.fault_scripted and len(self.vendor.requests) > calls_before
        self.unchecked = (role, method, target, answer, fault_reached, logged_before, what)
        return answer

    def settle(self):
        """Check the last answer, with every line logged since its request was sent. (Done just before the
        next request: the server may log an error a moment after the answer has gone out.)"""
        if self.unchecked:
            role, method, target, answer, fault_reached, logged_before, what = self.unchecked
            self.unchecked = None
            if answer.status == 500:
                self.wait_for_quiet_log(logged_before)
            self.check(role, method, target, answer, fault_reached, self.log.records[logged_before:], what)

    def wait_for_quiet_log(self, logged_before: int) -> None:
        """Until the log has had something to say and then said nothing for 0.1 s (0.5 s at most): werkzeug
        logs an exception that escaped the portal only after it has answered 500."""
        for _ in range(5):
            count = len(self.log.records)
            time.sleep(0.1)
            if len(self.log.records) == count > logged_before:
                return

    def remember_token(self, role, answer: Answer):
        found = CSRF.search(answer.text) if answer.header("Content-Type").startswith("text/html") else None
        if found:
            self.tokens[role] = found.group(1)
        if self.identity_headers is not None or role == "anonymous":
            return  # (behind the identity proxy every request signs itself in)
        signed_out = answer.status in (301, 302, 303, 307) and "/auth/login" in answer.header("Location")
        if signed_out or not self.jars[role].cookies:
            self.stale.add(role)  # (the fuzz may well have pressed "sign out")

    def check(self, role, method, target, answer: Answer, fault_reached: bool, logged: list[str], what: str):
        route = self.route_of(method, target)
        self.statuses[route if route.startswith("/") and len(route) < 60 else "(other)"][answer.status] += 1
        shown = f"{role}: {method} {str(target)[:150]!r} {what}"[:600]
        if answer.status == 0:
            self.found("no answer", method, route, 0, answer.error, shown)
        if answer.status >= 500:
            self.server_errors += 1
            vendor_fault = answer.status in VENDOR_FAULT_STATUSES and fault_reached and b'id="problem"' in answer.body
            self.vendor_fault_pages += vendor_fault and not logged
            if not vendor_fault or logged:
                # the exception behind it, when the log has one, names the cause best
                title = re.search(rb"<h[12][^>]*>([^<]{0,120})", answer.body)
                shown_page = f"nothing logged; the page says {title.group(1).decode(errors='replace')!r}" \
                    if title else "nothing logged"
                cause = next((line for line in logged if " | " in line), (logged or [shown_page])[-1])
                self.found("server error", method, route, answer.status, cause, shown)
        else:  # an error logged while the answer looked fine: a background job, a broken stream, ...
            for line in logged:
                self.found("unhandled exception", method, route, answer.status, line, shown)
        everything = answer.body + repr(answer.headers).encode()
        for name, secret in self.secrets.items():
            if secret and secret.encode() in everything:
                self.found("secret in answer", method, route, answer.status, name, shown)

    def found(self, kind, method, route, status, detail, reproduction):
        # one finding per cause: the same exception on many routes (paths and numbers aside) is one
        cause = re.sub(r"\d+", "N", re.sub(r" on \S+ \S+| on \S+ \[\w+\]", "", detail))[:300]
        # (an error logged beside an answer says nothing about that answer's status: one finding for all)
        key = (kind, None if kind == "unhandled exception" else status, cause)
        finding = self.findings.setdefault(key, Finding(kind, status, detail[:500], reproduction))
        where_seen = f"{method[:20]} {route[:80]}"
        finding.routes[where_seen] = finding.routes.get(where_seen, 0) + 1

    def route_of(self, method, target) -> str:
        path = (target.decode("latin-1") if isinstance(target, bytes) else str(target)).split("?", 1)[0]
        try:
            rule, _ = self.app.url_map.bind("localhost").match(path, method, return_rule=True)
            return rule.rule
        except Exception:  # not found, not allowed, or a path the router cannot even read
            return path[:80]

    # -- staff sessions ---------------------------------------------------------------------------------

    def prepare(self):
        """Before each example: the staff accounts as the tests made them, and each role signed in."""
        self.restore_staff()
        for role in sorted(self.stale):
            self.sign_in(role)

    def restore_staff(self):
        """The fuzz may lock, demote, disable or re-password the staff accounts: put them back."""
        from facesite.extensions import db
        from facesite.models import User

        with self.app.app_context():
            columns = {column["name"] for column in inspect(db.engine).get_columns("users")}
            extra = ", disabled_at = NULL" if "disabled_at" in columns else ""
            # (accounts of the identity proxy have no password, and must keep none)
            extra += "" if self.identity_headers else ", password_hash = :hash"
            for role, username in self.staff.items():
                updated = db.session.execute(text(f"UPDATE users SET role = :role, failed_logins = 0, "
                                                  f"locked_until = NULL{extra} WHERE username = :name"),
                                             {"role": role, "hash": FAST_HASH, "name": username})
                if not updated.rowcount and not self.identity_headers:  # removed by an administrator's fuzz
                    db.session.add(User(username=username, role=role, password_hash=FAST_HASH))
            if "sign_in_throttle" in inspect(db.engine).get_table_names():
                db.session.execute(text("DELETE FROM sign_in_throttle"))
            db.session.commit()

    def sign_in(self, role):
        self.sign_ins += 1
        self.jars[role].clear()
        page = self.send(role, "GET", "/auth/login")
        token = CSRF.search(page.text)
        body = (f"csrf_token={token.group(1) if token else ''}&username={self.staff[role]}"
                f"&password={PASSWORD.replace(' ', '+')}")
        answer = self.send(role, "POST", "/auth/login", [("Content-Type", "application/x-www-form-urlencoded")],
                           body.encode())
        if answer.status == 303:
            self.stale.discard(role)
            self.send(role, "GET", "/auth/password")  # a page with a CSRF token of the new session

    # -- what exists --------------------------------------------------------------------------------------

    def pools(self) -> dict[str, list]:
        """Ids that exist now, by kind: whoever made them (so also other users' ids)."""
        from facesite.extensions import db

        found: dict[str, list] = {}
        queries = {"user_id": "SELECT id FROM users", "job_id": "SELECT id FROM batch_jobs ORDER BY id DESC LIMIT 50",
                   "row_id": "SELECT id FROM batch_rows ORDER BY id DESC LIMIT 50",
                   "entry_id": "SELECT id FROM enrolments ORDER BY id DESC LIMIT 50",
                   "face_set_id": "SELECT id FROM face_sets",
                   "drafts": "SELECT key FROM drafts WHERE key NOT LIKE 'claim:%' ORDER BY created_at DESC LIMIT 300"}
        with self.app.app_context():
            for name, query in queries.items():
                found[name] = [row[0] for row in db.session.execute(text(query))]
        keys = found.pop("drafts")
        found["picture_id"] = [key.split(":", 1)[1] for key in keys if key.startswith("picture:")]
        found["submission_id"] = [key.split(":", 1)[1] for key in keys if key.startswith("outcome:")]
        return found

    def report(self) -> str:
        time.sleep(0.5)  # what the server still logs about the last request
        self.settle()
        lines = [f"fuzz: {self.sent} requests sent, {self.server_errors} answered 5xx ({self.vendor_fault_pages} of "
                 f"them vendor-fault pages), {len(self.findings)} distinct findings, {self.sign_ins} sign-ins"]
        lines += [str(finding) for finding in self.findings.values()]
        lines += ["answers by route:"] + [f"  {route}: {dict(sorted(counts.items()))}"
                                          for route, counts in sorted(self.statuses.items())]
        lines += ["slowest answers:"] + [f"  {seconds:.2f} s {shown}" for seconds, shown in reversed(self.slowest)]
        text = "\n".join(lines)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")  # lone surrogates cannot be printed
