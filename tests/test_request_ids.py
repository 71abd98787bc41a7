"""One id per request: from the router's X-Request-Id (or made), in the answer, on the error page, on every
log line (text or JSON) and in the audit row beside the vendor's transactionId."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest

from facesite import log_format
from facesite.extensions import db
from facesite.models import VendorCall
from tests.support import EnrolPage, face, make_app, staff_work
from tests.test_batch import BatchPage

MADE = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_log():
    """What LOG_FORMAT=json writes, from every logger, for this test."""
    stream = io.StringIO()
    handler = log_format.handler("json", stream)
    logging.getLogger().addHandler(handler)
    yield stream
    logging.getLogger().removeHandler(handler)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]  # each line parses, or this fails


def test_the_routers_id_leads_from_the_error_page_to_the_log_lines_and_the_audit_row(sandbox, json_log):
    app = make_app(sandbox.url, {"TRUSTED_PROXY_HOPS": "1"})  # a router in front, counted
    client = staff_work.signed_in(app, "operator")
    client.environ_base["HTTP_X_REQUEST_ID"] = "router-7f3a9c01-0001"
    page = EnrolPage(client).send(face("obama.jpg"), faceSetId="no-such-set")  # the vendor has no such set
    html = page.get_data(as_text=True)
    assert page.status_code >= 400 and "FaceSet not found" in html
    assert page.headers["X-Request-Id"] == "router-7f3a9c01-0001"
    assert "<code>router-7f3a9c01-0001</code>: quote this id when you report it" in html

    mine = [line for line in lines(json_log) if line["request_id"] == "router-7f3a9c01-0001"]
    assert any(line["message"].startswith("vendor add_face -> HTTP 200 PARAMETER_ERROR") for line in mine)
    assert {"time", "level", "logger", "process", "message"} <= set(mine[0])
    with app.app_context():
        call = db.session.scalar(db.select(VendorCall).where(VendorCall.request_id == "router-7f3a9c01-0001",
                                                             VendorCall.call == "add_face"))
    assert call.outcome_code == "PARAMETER_ERROR" and call.transaction_id in html  # ... and on to the vendor

    admin = staff_work.signed_in(app, "admin")
    audit = admin.get("/admin/audit?request_id=router-7f3a9c01-0001").get_data(as_text=True)
    assert call.transaction_id in audit and "router-7f3a9c01-0001" in audit
    assert admin.get("/admin/audit?request_id=someone-elses-id").get_data(as_text=True).count(call.transaction_id) == 0
    export = admin.get("/admin/audit.csv?request_id=router-7f3a9c01-0001").get_data(as_text=True)
    assert "request_id" in export.splitlines()[0] and "router-7f3a9c01-0001" in export


@pytest.mark.parametrize("hostile", ["abc12345\r\nSet-Cookie: session=stolen", "a" * 10240, "ünïcödé-1234567",
                                     "short", "id with spaces", "../../etc/passwd"])
def test_a_hostile_request_id_is_replaced(sandbox, hostile, json_log):
    app = make_app(sandbox.url, {"TRUSTED_PROXY_HOPS": "1"})  # even from a router counted in front
    answer = app.test_client().get("/healthz", environ_base={"HTTP_X_REQUEST_ID": hostile})
    assert MADE.fullmatch(answer.headers["X-Request-Id"])
    assert hostile not in json_log.getvalue()


def test_without_an_incoming_id_each_request_gets_its_own(client):
    ids = {client.get("/healthz").headers["X-Request-Id"] for _ in range(3)}
    assert len(ids) == 3 and all(MADE.fullmatch(i) for i in ids)


@pytest.mark.parametrize("role, url, status", [("operator", "/no/such/page", 404), ("viewer", "/enrol/", 403)])
def test_every_error_page_shows_its_id(app, role, url, status):
    answer = staff_work.signed_in(app, role).get(url)
    assert answer.status_code == status
    shown = re.search(r"Request id <code>([^<]+)</code>: quote this id", answer.get_data(as_text=True))
    assert shown and shown.group(1) == answer.headers["X-Request-Id"]


def test_a_batch_rows_calls_carry_the_job_and_row(sandbox, face_set, json_log):
    app = make_app(sandbox.url)
    client = staff_work.signed_in(app, "operator")
    job_id = staff_work.batch_job(client, face_set)
    row_id = staff_work.first_row(app, job_id)
    page = BatchPage(client)
    page.act(job_id, "start")
    page.wait(job_id)
    row_lines = [line for line in lines(json_log) if line["request_id"] == f"job-{job_id}-row-{row_id}"]
    assert any(line["message"].startswith("vendor add_face -> HTTP 200 SUCCESS") for line in row_lines)
    with app.app_context():
        call = db.session.scalar(db.select(VendorCall).where(VendorCall.call == "add_face"))
    assert call.request_id == f"job-{job_id}-row-{row_id}"


def test_lines_outside_a_request_say_so_in_both_formats(app):
    app.test_client().get("/healthz").close()  # as a server does once the answer is sent: the id is let go
    for name, parse in (("json", lambda text: json.loads(text)["request_id"]),
                        ("text", lambda text: re.search(r"\[(.*?)\]", text).group(1))):
        stream = io.StringIO()
        handler = log_format.handler(name, stream)
        logger = logging.getLogger("facesite.test_outside")
        logger.addHandler(handler)
        try:
            logger.warning("no request here")
        finally:
            logger.removeHandler(handler)
        assert parse(stream.getvalue()) == "-"


def test_an_unknown_log_format_stops_the_start():
    from facesite.config import Settings

    with pytest.raises(RuntimeError, match="LOG_FORMAT"):
        Settings.from_env({"LOG_FORMAT": "xml"})
    with pytest.raises(RuntimeError, match="METRICS_TOKEN"):
        Settings.from_env({"METRICS_TOKEN": "short"})
