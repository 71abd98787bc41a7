"""The access policy walked whole: every role × every route × every method it accepts.

EXPECTED below is the policy as README.md's "Who may do what" states it, written out here on its
own (not read from facesite/access/policy.py): changing who may do what in one place and not the
other fails this test. URLs name real things made in the test through the portal's own pages.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pytest

from facesite.access.policy import POLICY
from facesite.extensions import db
from facesite.models import Enrolment, User
from tests.support import make_app, staff_work

ANYONE, VIEWER, OPERATOR, ADMIN = "anyone", "viewer", "operator", "admin"
LEVELS = (ANYONE, VIEWER, OPERATOR, ADMIN)
BOTH = ("GET", "POST")

# endpoint -> the least role for each method it answers (HEAD as GET; OPTIONS as its most open method).
EXPECTED = {
    "auth.login": dict.fromkeys(BOTH, ANYONE),
    "auth.setup": dict.fromkeys(BOTH, ANYONE),
    "auth.reset_password": dict.fromkeys(BOTH, ANYONE),
    "auth.second_step": dict.fromkeys(BOTH, ANYONE),
    "auth.oidc_login": {"GET": ANYONE},
    "auth.oidc_callback": {"GET": ANYONE},
    "static": {"GET": ANYONE},
    "main.healthz": {"GET": ANYONE},
    "metrics.metrics_page": {"GET": ANYONE},  # loopback here; from elsewhere only with METRICS_TOKEN
    "main.favicon": {"GET": ANYONE},
    "i18n.choose_language": {"POST": ANYONE},
    "i18n.preferences": dict.fromkeys(BOTH, VIEWER),
    "main.index": {"GET": VIEWER},
    "auth.password": dict.fromkeys(BOTH, VIEWER),
    "auth.logout": {"POST": VIEWER},
    "auth.your_sessions": {"GET": VIEWER},
    "auth.end_other_sessions": {"POST": VIEWER},
    "auth.security": {"GET": VIEWER},
    "auth.factor_setup": dict.fromkeys(BOTH, VIEWER),
    "auth.recovery_codes": {"POST": VIEWER},
    "main.picture": {"GET": VIEWER},
    "search.search": dict.fromkeys(BOTH, VIEWER),
    "search.results": {"GET": VIEWER},
    "register.entries": {"GET": VIEWER},
    "register.find": {"POST": VIEWER},
    "register.entry": {"GET": VIEWER},
    "register.thumbnail": {"GET": VIEWER},
    "register.search_with_face": {"POST": VIEWER},
    "register.export": {"GET": OPERATOR},
    "enrol.enrol": dict.fromkeys(BOTH, OPERATOR),
    "enrol.result": {"GET": OPERATOR},
    "batch.jobs_list": {"GET": OPERATOR},
    "batch.new": dict.fromkeys(BOTH, OPERATOR),
    "batch.template_csv": {"GET": OPERATOR},
    "batch.job": {"GET": OPERATOR},
    "batch.progress": {"GET": OPERATOR},
    "batch.results_csv": {"GET": OPERATOR},
    "batch.start": {"POST": OPERATOR},
    "batch.pause": {"POST": OPERATOR},
    "batch.resume": {"POST": OPERATOR},
    "batch.retry": {"POST": OPERATOR},
    "batch.resend": {"POST": OPERATOR},
    "batch.discard": {"POST": OPERATOR},
    "batch.fix_row": {"POST": OPERATOR},
    "batch.replace_manifest": {"POST": OPERATOR},
    "admin.audit": {"GET": ADMIN},
    "admin.audit_csv": {"GET": ADMIN},
    "admin.security": {"GET": ADMIN},
    "admin.users": dict.fromkeys(BOTH, ADMIN),
    "admin.user_page": {"GET": ADMIN},
    "admin.change_role": {"POST": ADMIN},
    "admin.unlock": {"POST": ADMIN},
    "admin.set_password": {"POST": ADMIN},
    "admin.reset_factor": {"POST": ADMIN},
    "admin.reset_link": {"POST": ADMIN},
    "admin.disable": {"POST": ADMIN},
    "admin.enable": {"POST": ADMIN},
    "admin.remove": dict.fromkeys(BOTH, ADMIN),
    "admin.portal_settings": dict.fromkeys(BOTH, ADMIN),
    "admin.face_sets": dict.fromkeys(BOTH, ADMIN),
    "admin.edit_face_set": dict.fromkeys(BOTH, ADMIN),
}
# Endpoints whose URL names something that belongs to whoever made it (and to administrators).
OWNED = {"main.picture", "search.results", "enrol.result", "batch.job", "batch.progress", "batch.results_csv",
         "batch.start", "batch.pause", "batch.resume", "batch.retry", "batch.resend", "batch.discard",
         "batch.fix_row", "batch.replace_manifest"}
# Allowed, but the made-up token names no setup or reset link, and the company sign-in is off in this portal
# (builtin sign-in): "no such page" is the right answer.
NOT_FOUND_WHEN_ALLOWED = {"auth.setup", "auth.reset_password", "auth.oidc_login", "auth.oidc_callback"}
# Allowed, but with no right password just typed there is no code to ask for: back to the sign-in page.
SIGN_IN_FIRST = {"auth.second_step"}
# Walked last, in this order: each ends something the walk still needs (the job, an account, the session).
LAST = ("batch.discard", "admin.remove", "auth.logout")
METHOD_ORDER = ("HEAD", "OPTIONS", "GET", "POST")  # reads first: a POST may change what they find


def least_role(endpoint: str, method: str) -> str:
    methods = EXPECTED[endpoint]
    if method == "OPTIONS":
        return min(methods.values(), key=LEVELS.index)
    return methods["GET" if method == "HEAD" else method]


def routes(app):
    """(endpoint, rule) for every route, in walking order."""
    rules = sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in LAST and LAST.index(r.endpoint) + 1,
                                                             r.endpoint))
    return [(rule.endpoint, rule) for rule in rules]


@dataclass
class World:
    """Staff signed in, and per role the ids of things that role made (or, if it cannot make them, an
    operator's)."""

    app: object
    clients: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)

    def url(self, endpoint, rule, role) -> str:
        ids = self.ids[role]
        values = {name: ids["enrol_id" if endpoint.startswith("enrol.") else "search_id"]
                  if name == "submission_id" else ids[name] for name in rule.arguments}
        with self.app.test_request_context():
            from flask import url_for
            return url_for(endpoint, **values)


@pytest.fixture
def world(sandbox, face_set):
    app = make_app(sandbox.url)
    staff_work.add_staff(app, "olga", OPERATOR)  # a second operator, for ownership
    staff_work.add_staff(app, "tina", VIEWER)  # the account the admin actions act on
    made = World(app)
    for role in (VIEWER, OPERATOR, ADMIN):
        made.clients[role] = staff_work.signed_in(app, role)
    made.clients["olga"] = staff_work.signed_in(app, OPERATOR, "olga")
    with app.app_context():
        target = db.session.scalar(db.select(User.id).filter_by(username="tina"))
    shared = {"user_id": target, "face_set_id": face_set, "token": "x" * 32, "filename": "style.css"}
    for role in (VIEWER, OPERATOR, ADMIN):
        client = made.clients[role]
        search_id, picture_id = staff_work.search(client, face_set)
        made.ids[role] = {**shared, "search_id": search_id, "picture_id": picture_id}
        if role != VIEWER:
            enrol_id, _ = staff_work.enrol(client, face_set, name=f"Enrolled by {role}")
            job_id = staff_work.batch_job(client, face_set)
            made.ids[role].update(enrol_id=enrol_id, job_id=job_id, row_id=staff_work.first_row(app, job_id))
    with app.app_context():
        entry = db.session.scalar(db.select(Enrolment.id).order_by(Enrolment.id))
    for role in (VIEWER, OPERATOR, ADMIN):
        made.ids[role]["entry_id"] = entry
    # Those who cannot make a thing are shown an operator's: a refusal must come from the role alone.
    made.ids[VIEWER] = {**made.ids[OPERATOR], "search_id": made.ids[VIEWER]["search_id"],
                        "picture_id": made.ids[VIEWER]["picture_id"]}
    made.ids[ANYONE] = made.ids[OPERATOR]
    made.clients[ANYONE] = app.test_client()
    return made


def to_sign_in(response) -> bool:
    return response.status_code == 302 and "/auth/login" in response.headers.get("Location", "")


def verdict(endpoint: str, role: str, least: str, response) -> str | None:
    """What is wrong with this answer, or None."""
    status = response.status_code
    if LEVELS.index(role) >= LEVELS.index(least):
        if status >= 500 or status == 403 or (to_sign_in(response) and endpoint not in SIGN_IN_FIRST):
            return f"allowed but got {status} {response.headers.get('Location', '')}"
        if status == 404 and endpoint not in NOT_FOUND_WHEN_ALLOWED:
            return "allowed but got 404"
        return None
    if role == ANYONE:
        return None if to_sign_in(response) else f"expected the sign-in page, got {status}"
    return None if status == 403 else f"expected 403, got {status}"


def test_the_expected_table_names_every_route_and_method_and_nothing_else(app):
    answered = {}
    for rule in app.url_map.iter_rules():
        assert rule.endpoint not in answered, f"{rule.endpoint} has two URLs: give the walk both"
        answered[rule.endpoint] = set(rule.methods) - {"HEAD", "OPTIONS"}
    assert {endpoint: set(methods) for endpoint, methods in EXPECTED.items()} == answered
    assert set(POLICY) <= set(answered), "the policy names routes that do not exist"


def test_every_role_route_and_method_gets_what_the_policy_says(world):
    problems = []
    for role in (ANYONE, VIEWER, OPERATOR, ADMIN):
        client = world.clients[role]
        token = staff_work.csrf_token(client)
        for endpoint, rule in routes(world.app):
            url = world.url(endpoint, rule, role)
            for method in sorted(rule.methods, key=METHOD_ORDER.index):
                data = {"csrf_token": token} if method == "POST" else None
                response = client.open(url, method=method, data=data)
                response.close()  # a streamed CSV keeps its request's context (and user) until closed
                wrong = verdict(endpoint, role, least_role(endpoint, method), response)
                if wrong:
                    problems.append(f"{role:8} {method:7} {url}: {wrong}")
    assert not problems, "\n".join(problems)


def test_every_owned_thing_is_a_404_for_anyone_else_and_open_to_administrators(world):
    intruders = {"olga": OPERATOR, VIEWER: VIEWER}
    problems = []
    for endpoint, rule in routes(world.app):
        if endpoint not in OWNED:
            continue
        url = world.url(endpoint, rule, OPERATOR)
        for name, role in intruders.items():
            client = world.clients[name]
            token = staff_work.csrf_token(client)
            for method in sorted(rule.methods, key=METHOD_ORDER.index):
                if LEVELS.index(role) < LEVELS.index(least_role(endpoint, method)):
                    continue  # refused by role already (the walk above)
                response = client.open(url, method=method, data={"csrf_token": token} if method == "POST" else None)
                response.close()
                if response.status_code != 404:
                    problems.append(f"{name} {method} {url}: {response.status_code}, expected 404")
        if rule.methods & {"GET"}:
            answer = world.clients[ADMIN].get(url)
            answer.close()
            if answer.status_code != 200:
                problems.append(f"admin GET {url}: {answer.status_code}, expected 200")
    assert not problems, "\n".join(problems)


def test_a_route_left_out_of_the_policy_is_refused_to_everyone_and_logged(sandbox, caplog):
    app = make_app(sandbox.url)
    app.add_url_rule("/forgotten", "forgotten", lambda: "should never be shown")
    caplog.set_level(logging.WARNING, logger="facesite")
    admin = staff_work.signed_in(app, ADMIN)
    answer = admin.get("/forgotten")
    assert answer.status_code == 403 and "should never be shown" not in answer.get_data(as_text=True)
    assert any("forgotten is not in the access policy" in record.getMessage() for record in caplog.records)
    assert app.test_client().get("/forgotten").status_code == 403
