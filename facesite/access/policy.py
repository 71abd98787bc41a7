"""Who may do what: the portal's whole access policy in one table, enforced by one before_request.

Every endpoint is listed with the least role allowed for each HTTP method it answers, and with
the thing its URL names when that thing belongs to whoever made it. README.md ("Who may do what")
is the same table in words; tests/test_access_matrix.py holds a copy of its own and walks every
role × route × method against the running portal, so the two cannot drift apart unnoticed.

Default deny: an endpoint missing from the table, or a method its entry does not list, is refused
(403, logged) for everyone, so a new route is closed until someone decides who may use it.
Ownership answers 404, exactly as for an id that does not exist, so ids cannot be probed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from flask import abort, redirect, request, url_for
from flask_login import current_user

from facesite import security_events
from facesite.access import second_factor
from facesite.drafts import ANY_OWNER, drafts
from facesite.extensions import db
from facesite.models import ROLES, BatchJob

log = logging.getLogger(__name__)

ANYONE = "anyone"  # no sign-in needed
VIEWER, OPERATOR, ADMIN = ROLES
# Each level may do everything the ones before it may.
LEVELS = (ANYONE, *ROLES)


def _kept_picture_owner(picture_id: str) -> str | None:
    return drafts().owner("picture", picture_id)


def _form_outcome_owner(submission_id: str) -> str | None:
    return drafts().owner("outcome", submission_id)


def _batch_job_owner(job_id: int) -> str | None:
    job = db.session.get(BatchJob, job_id)  # kept in the session: the view's own lookup costs nothing
    return job.created_by if job else None


@dataclass(frozen=True)
class Owned:
    """A URL argument naming something that belongs to one member of staff (and to administrators)."""

    argument: str
    owner_of: Callable[[object], str | None]  # None: no such thing


KEPT_PICTURE = Owned("picture_id", _kept_picture_owner)
FORM_OUTCOME = Owned("submission_id", _form_outcome_owner)
BATCH_JOB = Owned("job_id", _batch_job_owner)


@dataclass(frozen=True)
class Rule:
    least: dict[str, str]  # HTTP method -> the least level that may use it
    owned: Owned | None = field(default=None)


def allow(level: str, *methods: str, owned: Owned | None = None) -> Rule:
    assert level in LEVELS
    return Rule({method: level for method in methods or ("GET",)}, owned)


POLICY: dict[str, Rule] = {
    # Public: signing in, the one-time links (first administrator, password reset), style, scripts and icon,
    # the platform's probe.
    "auth.login": allow(ANYONE, "GET", "POST"),
    "auth.setup": allow(ANYONE, "GET", "POST"),
    "auth.reset_password": allow(ANYONE, "GET", "POST"),  # an administrator's one-time password reset link
    "auth.second_step": allow(ANYONE, "GET", "POST"),  # a right password's code; opens nothing else
    "auth.oidc_login": allow(ANYONE),  # the company sign-in's two legs (AUTH_MODE=oidc; else 404)
    "auth.oidc_callback": allow(ANYONE),
    "static": allow(ANYONE),
    "main.healthz": allow(ANYONE),
    # Prometheus: the view itself opens only to loopback or METRICS_TOKEN (web/metrics.py).
    "metrics.metrics_page": allow(ANYONE),
    "main.favicon": allow(ANYONE),
    # The language picker on every page, the sign-in page's included (a cookie until there is an account).
    "i18n.choose_language": allow(ANYONE, "POST"),
    # Every member of staff.
    "main.index": allow(VIEWER),
    "auth.password": allow(VIEWER, "GET", "POST"),
    "auth.logout": allow(VIEWER, "POST"),
    "auth.your_sessions": allow(VIEWER),  # one's own sessions only: the views read current_user's
    "auth.end_other_sessions": allow(VIEWER, "POST"),
    "auth.security": allow(VIEWER),  # one's own second factor (password accounts)
    "auth.factor_setup": allow(VIEWER, "GET", "POST"),
    "auth.recovery_codes": allow(VIEWER, "POST"),
    "i18n.preferences": allow(VIEWER, "GET", "POST"),
    "main.picture": allow(VIEWER, owned=KEPT_PICTURE),
    "search.search": allow(VIEWER, "GET", "POST"),
    "search.results": allow(VIEWER, owned=FORM_OUTCOME),
    "register.entries": allow(VIEWER),
    "register.find": allow(VIEWER, "POST"),  # an exact ID number, sent by POST: never in a URL
    "register.entry": allow(VIEWER),
    "register.thumbnail": allow(VIEWER),
    "register.search_with_face": allow(VIEWER, "POST"),  # the thumbnail becomes the searcher's own kept picture
    # Operators: enrolling, one face or a batch, and the register's export.
    "enrol.enrol": allow(OPERATOR, "GET", "POST"),
    "enrol.result": allow(OPERATOR, owned=FORM_OUTCOME),
    "register.export": allow(OPERATOR),
    "batch.jobs_list": allow(OPERATOR),  # lists only one's own jobs (admins: all), see visible_jobs
    "batch.new": allow(OPERATOR, "GET", "POST"),
    "batch.template_csv": allow(OPERATOR),
    "batch.job": allow(OPERATOR, owned=BATCH_JOB),
    "batch.progress": allow(OPERATOR, owned=BATCH_JOB),
    "batch.results_csv": allow(OPERATOR, owned=BATCH_JOB),
    "batch.start": allow(OPERATOR, "POST", owned=BATCH_JOB),
    "batch.pause": allow(OPERATOR, "POST", owned=BATCH_JOB),
    "batch.resume": allow(OPERATOR, "POST", owned=BATCH_JOB),
    "batch.retry": allow(OPERATOR, "POST", owned=BATCH_JOB),
    "batch.resend": allow(OPERATOR, "POST", owned=BATCH_JOB),
    "batch.discard": allow(OPERATOR, "POST", owned=BATCH_JOB),
    "batch.fix_row": allow(OPERATOR, "POST", owned=BATCH_JOB),  # only under review (corrections.py)
    "batch.replace_manifest": allow(OPERATOR, "POST", owned=BATCH_JOB),
    # Administrators: the audit trail, accounts, settings, the face-set catalogue.
    "admin.audit": allow(ADMIN),
    "admin.audit_csv": allow(ADMIN),
    "admin.security": allow(ADMIN),
    "admin.users": allow(ADMIN, "GET", "POST"),
    "admin.user_page": allow(ADMIN),
    "admin.change_role": allow(ADMIN, "POST"),
    "admin.unlock": allow(ADMIN, "POST"),
    "admin.set_password": allow(ADMIN, "POST"),
    "admin.reset_factor": allow(ADMIN, "POST"),
    "admin.reset_link": allow(ADMIN, "POST"),
    "admin.disable": allow(ADMIN, "POST"),
    "admin.enable": allow(ADMIN, "POST"),
    "admin.remove": allow(ADMIN, "GET", "POST"),  # GET: the confirmation page
    "admin.portal_settings": allow(ADMIN, "GET", "POST"),
    "admin.face_sets": allow(ADMIN, "GET", "POST"),
    "admin.edit_face_set": allow(ADMIN, "GET", "POST"),
}


def least_level(endpoint: str | None, method: str) -> str | None:
    """The least level that may use ``method`` on ``endpoint``; None: nobody (not in the table)."""
    rule = POLICY.get(endpoint)
    if rule is None:
        return None
    if method == "HEAD":
        method = "GET"
    if method == "OPTIONS":  # says which methods exist, nothing more: open to whoever may use any of them
        return min(rule.least.values(), key=LEVELS.index)
    return rule.least.get(method)


def reaches(level: str) -> bool:
    """Whether the current visitor is at ``level`` or above."""
    if level == ANYONE:
        return True
    return current_user.is_authenticated and current_user.can(level)


def sees_everything() -> bool:
    """Administrators see everyone's results, pictures and batch jobs."""
    return reaches(ADMIN)


def draft_reader():
    """Who reads kept pictures and form outcomes: the signed-in user's own, or all for administrators."""
    if sees_everything():
        return ANY_OWNER
    return current_user.username if current_user.is_authenticated else None


def visible_jobs(query):
    """A query of batch jobs narrowed to those the current user may see."""
    return query if sees_everything() else query.where(BatchJob.created_by == current_user.username)


# Open to someone who must set a second factor up before anything else (MFA_REQUIRED_ROLES).
BEFORE_SECOND_FACTOR = {"auth.factor_setup", "auth.logout", "static", "main.favicon", "main.healthz",
                        "metrics.metrics_page", "i18n.choose_language"}


def enforce_policy():
    """before_request: sign-in, role and ownership, for every request, from POLICY alone; and a password
    account that must have a second factor and has none sees the setup page and nothing else."""
    endpoint = request.endpoint
    if (endpoint not in BEFORE_SECOND_FACTOR and current_user.is_authenticated
            and second_factor.must_set_up(current_user)):
        return redirect(url_for("auth.factor_setup"))
    if endpoint is None:  # no such URL (or method): signed-in staff get the 404/405, others the sign-in page
        return None if current_user.is_authenticated else redirect(url_for("auth.login"))
    level = least_level(endpoint, request.method)
    if level is None:
        _refuse(f"{request.method} {endpoint} is not in the access policy")
    if not reaches(level):
        if not current_user.is_authenticated:
            # The path as the browser sees it: under a mount path (SCRIPT_NAME, X-Forwarded-Prefix) that included.
            back = request.script_root + request.full_path if request.method == "GET" else None
            return redirect(url_for("auth.login", next=back))
        _refuse(f"{request.method} {endpoint} needs the {level} role")
    owned = POLICY[endpoint].owned
    if owned and not sees_everything():
        owner = owned.owner_of((request.view_args or {}).get(owned.argument))
        if owner is None:
            abort(404)
        if owner != current_user.username:
            _log_denial(f"{request.method} {endpoint}: belongs to someone else")
            abort(404)  # the same answer as for an id that does not exist
    return None


def _refuse(reason: str):
    _log_denial(reason)
    abort(403)


def _log_denial(reason: str) -> None:
    who = current_user.username if current_user.is_authenticated else "anonymous"
    log.warning("access denied to %s: %s (%s)", who, reason, request.path)
    security_events.record("access_denied", subject=request.endpoint, detail=f"{reason} ({request.path})")
