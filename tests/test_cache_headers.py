"""Nothing with personal data stays in a browser's or a proxy's cache, and a real deployment speaks
only HTTPS unless told otherwise."""
from __future__ import annotations

import pytest

from facesite.app import create_app
from facesite.config import Settings
from facesite.extensions import db
from facesite.models import Enrolment
from tests.support import EnrolPage, face, portal_settings, sign_in
from tests.support.batch_files import make_manifest, make_zip
from tests.support.servers import envelope
from tests.test_batch import BatchPage


def fetched(client, url: str):
    """The answer, read to its end (a streamed CSV holds its request open until it is read)."""
    answer = client.get(url)
    answer.get_data()
    return answer


def test_every_answer_to_signed_in_staff_is_never_stored(fake_app, fake_vendor):
    operator = sign_in(fake_app.test_client(), "operator")
    enrolled = EnrolPage(operator).send(face("obama.jpg"), faceSetId="1", name="Ana Lima")
    assert enrolled.status_code == 303
    fake_vendor.add_face.append(envelope("PARAMETER_ERROR", "Failed to embed image: No face detected"))
    refused = EnrolPage(operator).send(face("biden.jpg"), faceSetId="1", name="Bo Chen")
    kept = EnrolPage.hidden(refused.get_data(as_text=True), "keptPicture")
    with fake_app.app_context():
        entry = db.session.scalar(db.select(Enrolment).filter_by(name="Ana Lima")).id
    batch = BatchPage(operator)
    job = batch.job_id(batch.upload(make_zip({"p.jpg": face("obama.jpg")}),
                                    make_manifest([{"faceSetId": "1", "faceImage": "p.jpg", "name": "Cy"}]), face_set="1"))
    admin = sign_in(fake_app.test_client(), "admin")

    answers = {url: fetched(operator, url) for url in (
        enrolled.headers["Location"], "/enrol/", "/search/", "/register/", f"/register/{entry}",
        f"/register/{entry}/thumbnail.jpg", "/register/export.csv", f"/picture/{kept}", "/batch/",
        f"/batch/{job}", f"/batch/{job}/progress", f"/batch/{job}/results.csv", "/no-such-page")}
    answers.update({url: fetched(admin, url) for url in ("/admin/audit", "/admin/audit.csv", "/admin/users")})
    answers["sign-in page"] = fetched(fake_app.test_client(), "/auth/login")
    kinds = {answer.mimetype for answer in answers.values()}
    assert {"text/html", "application/json", "text/csv", "image/jpeg"} <= kinds
    for url, answer in answers.items():
        assert answer.status_code == (404 if url == "/no-such-page" else 200), url
        assert answer.headers["Cache-Control"] == "no-store", url


def test_style_sheets_and_scripts_may_still_be_cached(client):
    for url in ("/static/style.css", "/static/picture-form.js"):
        answer = client.get(url)
        assert answer.status_code == 200 and "no-store" not in answer.headers.get("Cache-Control", "")


def real_vendor(**settings) -> dict:
    """The environment of a portal with vendor credentials (and ``settings``)."""
    return {"ADVANCE_ACCESS_KEY": "ak", "ADVANCE_SECRET_KEY": "sk", "SECRET_KEY": "s" * 32, **settings}


@pytest.mark.parametrize("settings, forced", [
    ({}, True),                                                    # the vendor's own host
    ({"ADVANCE_BASE_URL": "https://vendor.example"}, True),
    ({"ADVANCE_BASE_URL": "http://127.0.0.1:9100"}, True),         # a stand-in vendor: still not sandbox mode
    ({"FORCE_HTTPS": "0"}, False),                                 # the platform's router does it
])
def test_https_is_forced_by_default_outside_sandbox_mode(settings, forced):
    assert Settings.from_env(real_vendor(**settings)).force_https is forced


def test_sandbox_mode_does_not_force_https():
    assert Settings.from_env({}).force_https is False


def test_a_real_deployment_sends_plain_http_to_https_but_answers_the_health_check():
    browser = create_app(portal_settings(real_vendor(ADVANCE_REGION="sg"), TESTING=False)).test_client()
    plain = browser.get("/auth/login?next=/register/", base_url="http://faces.example.com")
    assert plain.status_code == 301
    assert plain.headers["Location"] == "https://faces.example.com/auth/login?next=/register/"
    assert browser.get("/auth/login", base_url="https://faces.example.com").status_code == 200
    assert browser.get("/healthz", base_url="http://faces.example.com").status_code == 200  # the platform's probe
    # The router ended HTTPS already and says so: no redirect loop, even with no proxy hop trusted.
    routed = browser.get("/auth/login", base_url="http://faces.example.com", headers={"X-Forwarded-Proto": "https"})
    assert routed.status_code == 200
    # On this machine itself (a developer, a stand-in vendor) there is no TLS to send anyone to.
    for host in ("http://127.0.0.1:5000", "http://localhost:5000", "http://[::1]:5000"):
        assert browser.get("/auth/login", base_url=host).status_code == 200, host


def test_the_https_redirect_goes_to_the_public_address_not_to_any_host_sent():
    env = real_vendor(ADVANCE_REGION="sg", PUBLIC_URL="https://faces.example.com")
    browser = create_app(portal_settings(env, TESTING=False)).test_client()
    answer = browser.get("/register/?page=2", base_url="http://evil.example")
    assert answer.status_code == 301 and answer.headers["Location"] == "https://faces.example.com/register/?page=2"
