"""/metrics: what staff work moves, who may read it, and the counts of several gunicorn workers added up."""
from __future__ import annotations

import json

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from facesite.sandbox.launcher import free_port
from facesite.web import metrics as metrics_page
from tests.support import OPERATOR, EnrolPage, make_app, pictures, staff_work
from tests.test_batch import BatchPage
from tests.test_procfile import procfile_portal  # noqa: F401 (a fixture)

TOKEN = "scrape-token-0123456789abcdef"
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def scrape_text(text: str) -> dict:
    """Every sample of a scrape: (name, sorted labels) -> value."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def scrape(client, **request) -> dict:
    answer = client.get("/metrics", **request)
    assert answer.status_code == 200, answer.status_code
    assert answer.mimetype == "text/plain"
    return scrape_text(answer.get_data(as_text=True))


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def moved(before: dict, after: dict, name: str, **labels) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def fresh_database_counts(monkeypatch):
    monkeypatch.setattr(metrics_page, "DATABASE_COUNTS_SECONDS", 0.0)


def test_an_enrolment_a_search_and_a_batch_job_move_the_counters(sandbox, face_set, fresh_database_counts):
    app = make_app(sandbox.url)
    client = staff_work.signed_in(app, "operator")
    staff_work.search(client, face_set)  # the portal holds a token now (the cache is shared by every app)
    before = scrape(client)
    requests.post(sandbox.url + "/sandbox/tokens/revoke", headers=OPERATOR, timeout=10)  # the next call needs a new token

    staff_work.enrol(client, face_set, name="Counted")
    staff_work.search(client, face_set)
    refused = EnrolPage(client).send(pictures.plain(100, 100), faceSetId=face_set)
    assert refused.status_code == 422
    page = BatchPage(client)
    job_id = staff_work.batch_job(client, face_set)
    assert page.act(job_id, "start").status_code == 303
    page.wait(job_id)
    after = scrape(client)

    # Requests, by endpoint (never a path) and status, with their latency.
    assert moved(before, after, "facesite_http_requests_total", endpoint="enrol.enrol", status="303") == 1
    assert moved(before, after, "facesite_http_requests_total", endpoint="enrol.enrol", status="422") == 1
    assert moved(before, after, "facesite_http_requests_total", endpoint="search.search", status="303") == 1
    assert moved(before, after, "facesite_http_requests_total", endpoint="batch.start", status="303") == 1
    assert moved(before, after, "facesite_http_requests_total", endpoint="enrol.enrol", status="200") == 2  # forms
    assert moved(before, after, "facesite_http_request_seconds_count", endpoint="enrol.enrol") == 4
    assert not any("/enrol/" in str(labels) for _, labels in after)
    # Vendor calls by call and outcome: the revoked token was refused once, then renewed.
    assert moved(before, after, "facesite_vendor_calls_total", call="add_face", outcome="IAM_FAILED") == 1
    assert moved(before, after, "facesite_vendor_calls_total", call="token", outcome="SUCCESS") == 1
    assert moved(before, after, "facesite_vendor_token_refreshes_total", result="ok") == 1
    assert moved(before, after, "facesite_vendor_calls_total", call="add_face", outcome="SUCCESS") == 2
    assert moved(before, after, "facesite_vendor_calls_total", call="search", outcome="SUCCESS") == 1
    assert moved(before, after, "facesite_vendor_call_seconds_count", call="add_face") == 3
    # Charged: the successful search only (Add Face and tokens are free).
    assert moved(before, after, "facesite_vendor_charged_calls_total", call="search") == 1
    assert moved(before, after, "facesite_vendor_charged_calls_total", call="add_face") == 0
    # Pictures: three prepared (enrol, search, the batch row), one refused as too small.
    assert moved(before, after, "facesite_pictures_accepted_total", how="prepared") == 3
    assert moved(before, after, "facesite_pictures_refused_total", reason="resolution") == 1
    # Batch jobs and rows by state, from this portal's database.
    assert value(after, "facesite_batch_jobs", state="finished") == 1
    assert value(after, "facesite_batch_rows", state="done") == 1
    assert value(after, "facesite_batch_rows", state="unknown") == 0


def test_a_vendor_code_outside_the_vendors_form_is_counted_as_other():
    from facesite import metrics

    assert metrics.outcome_label("SERVICE_BUSY") == "SERVICE_BUSY"
    assert metrics.outcome_label("TRANSPORT_TIMEOUT") == "TRANSPORT_TIMEOUT"
    for hostile in ("busy; rm", "x" * 500, "Ünicode", "", None):
        assert metrics.outcome_label(hostile) in ("OTHER", "NONE")


def test_metrics_are_for_this_machine_or_the_token_holder(sandbox):
    app = make_app(sandbox.url, {"METRICS_TOKEN": TOKEN})
    client = app.test_client()
    assert client.get("/metrics").status_code == 200  # loopback, no proxy: a local scraper
    hidden = client.get("/metrics", environ_base=OUTSIDE)
    assert hidden.status_code == 404 and "facesite_" not in hidden.get_data(as_text=True)
    wrong = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer " + TOKEN[:-1] + "x"})
    assert wrong.status_code == 401 and wrong.get_data(as_text=True) == "Unauthorized\n"
    assert client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": TOKEN}).status_code == 401
    opened = client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer " + TOKEN})
    assert opened.status_code == 200 and "facesite_http_requests_total" in opened.get_data(as_text=True)


def test_without_a_token_nobody_outside_reads_the_metrics(sandbox):
    client = make_app(sandbox.url).test_client()
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    assert client.get("/metrics", environ_base=OUTSIDE, headers={"Authorization": "Bearer "}).status_code == 401


@pytest.mark.parametrize("forwarded_for", ["203.0.113.9", "127.0.0.1"])
def test_a_visitor_through_a_proxy_on_this_machine_is_not_loopback(sandbox, forwarded_for):
    """The proxy connects from 127.0.0.1 for everyone; ProxyFix then makes REMOTE_ADDR the forwarded address,
    which a visitor can also claim to be 127.0.0.1. Neither opens the metrics."""
    app = make_app(sandbox.url, {"TRUSTED_PROXY_HOPS": "1", "METRICS_TOKEN": TOKEN})
    client = app.test_client()
    proxied = {"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": "http"}
    assert client.get("/metrics", headers=proxied).status_code == 404
    assert client.get("/metrics", headers={**proxied, "Authorization": "Bearer " + TOKEN}).status_code == 200
    assert client.get("/metrics", headers={"Forwarded": "for=127.0.0.1"}).status_code == 404
    assert client.get("/metrics").status_code == 200  # straight from this machine


@pytest.fixture
def json_logs(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "json")
    # A port of its own for the embedded sandbox, which otherwise says in plain text that 9100 is taken.
    monkeypatch.setenv("SANDBOX_PORT", str(free_port()))


def test_two_gunicorn_workers_count_together(json_logs, procfile_portal):  # noqa: F811 (the fixture)
    """The Procfile's web line with two workers: /metrics shows the requests of both, added up, whichever
    worker answers the scrape; gunicorn's own lines are JSON too, each with its request id and process."""
    url, process = procfile_portal
    healthz = {"endpoint": "main.healthz", "status": "200"}
    before = value(scrape_text(requests.get(url + "/metrics", timeout=10).text), "facesite_http_requests_total",
                   **healthz)  # the start-up's own probes
    sent, pids = 0, set()
    while len(pids) < 2 and sent < 400:  # each on a new connection, until both workers have answered
        answer = requests.get(url + "/healthz", headers={"Connection": "close"}, timeout=10)
        request_id = answer.headers["X-Request-Id"]
        assert answer.status_code == 200
        sent += 1
        pids |= {line["process"] for line in json_lines(process) if line.get("request_id") == request_id}
    assert len(pids) == 2, f"one worker answered all {sent} requests"
    for _ in range(4):  # every worker's scrape shows the same total
        samples = scrape_text(requests.get(url + "/metrics", timeout=10, headers={"Connection": "close"}).text)
        assert value(samples, "facesite_http_requests_total", **healthz) == before + sent
    # Every line but the embedded sandbox's (a stand-in vendor in its own process, with werkzeug's log).
    not_json = [line for line in process.log_lines if line.strip() and not _is_json(line)
                and not line.startswith(("sandbox upstream on ", "127.0.0.1 - - ["))]
    assert not not_json, not_json


def _is_json(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def json_lines(process) -> list[dict]:
    found = []
    for line in list(process.log_lines):
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found
