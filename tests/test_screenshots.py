"""The README's screenshots, taken from the current code: `bin/screenshots` runs this module (pytest's
`screenshots` marker, left out of the normal run) and writes docs/screenshots/. Each picture shows the
state the README names, reached in Chromium the way staff reach it, against the embedded sandbox."""
from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import FACES, ROOT, browser_sign_in as sign_in, face, make_app, pick_face_set
from tests.support.batch_files import make_manifest, make_zip
from tests.support.servers import ServerThread, SlowUpstream
from tests.test_browser_photos import camera_browser  # noqa: F401  (a Chromium with a fake camera)
from tests.test_browser_security import framed_portal, host_page, sign_in_inside_the_tool  # noqa: F401

# Every picture the README embeds, by the test below that takes it.
SHOTS = {"enrol-form", "enrol-result", "enrol-error", "enrol-precheck", "enrol-faces", "enrol-duplicate",
         "search-results", "search-none", "phone-results", "audit", "batch-review", "batch-running", "camera", "framed"}
FACE_SET, FACE_SET_LABEL = "jakarta-staff", "Jakarta office staff"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def folder() -> Path:
    return Path(os.environ.get("SCREENSHOT_DIR") or ROOT / "docs" / "screenshots")


def shot(page, name: str, full_page=True) -> None:
    assert name in SHOTS, f"{name} is not one of the README's pictures"
    path = folder() / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.wait_for_load_state("load")
    for picture in page.locator("img:visible").all():  # every picture drawn, however late it arrived
        expect(picture).to_have_js_property("complete", True)
    page.screenshot(path=str(path), full_page=full_page)
    print(f"wrote {path}")


@pytest.fixture
def portal(sandbox):
    """The portal against the sandbox (each face call taking a moment, so a batch is seen running), with a
    face set in its catalogue under a label staff would give it."""
    from facesite.extensions import db
    from facesite.models import FaceSet

    sandbox.store.create_face_set(FACE_SET)  # once per run: the tests below share it
    upstream = ServerThread(SlowUpstream(sandbox.app, 0.3))
    app = make_app(upstream.url, BATCH_CONCURRENCY=2)
    with app.app_context():
        db.session.add(FaceSet(id=FACE_SET, label=FACE_SET_LABEL, description="Everyone working at the Jakarta office"))
        db.session.commit()
    server = ServerThread(app)
    yield server
    server.stop()
    upstream.stop()


def tab(browser, portal, viewport=DESKTOP, who="otto"):
    page = browser.new_context(base_url=portal.url, viewport=viewport).new_page()
    sign_in(page, who)
    return page


def fill_enrol(page, picture="obama.jpg"):
    page.goto("/enrol/")
    pick_face_set(page, FACE_SET)
    page.set_input_files("#faceImage", str(FACES / picture))
    page.fill("#name", "Barack Obama")
    page.fill("#externalReferenceId", "JKT-2026-000117")
    page.fill("#idNumber", "3171000011112222")
    page.fill("#idCardType", "KTP")
    page.fill("#country", "ID")
    page.locator("#country").blur()  # no focus ring or suggestion list in the picture
    expect(page.locator("#picture-preview")).to_be_visible()


def search(page, picture, threshold="80"):
    page.goto("/search/")
    pick_face_set(page, FACE_SET)
    page.set_input_files("#faceImage", str(FACES / picture))
    page.fill("#threshold", threshold)
    page.click("#submit")


@pytest.mark.screenshots
def test_enrol_and_search(browser, portal):
    page = tab(browser, portal)
    page.goto("/enrol/")
    pick_face_set(page, FACE_SET)
    page.locator("#faceSetId").blur()
    page.set_input_files("#faceImage", str(FACES / "obama-240p.jpg"))
    expect(page.locator("#faceImage-error")).to_contain_text("Image resolution")
    shot(page, "enrol-precheck")

    fill_enrol(page)
    pick_face_set(page, "no-such-set")  # in the catalogue, unknown to the vendor
    page.click("#submit")
    expect(page.locator("#problem")).to_contain_text("FaceSet not found")
    shot(page, "enrol-error")

    fill_enrol(page)
    shot(page, "enrol-form")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    shot(page, "enrol-result")

    fill_enrol(page, "obama_and_biden.jpg")  # asked before anyone is enrolled
    page.click("#submit")
    expect(page.locator("#faces-question")).to_be_focused()
    shot(page, "enrol-faces")
    fill_enrol(page, "obama2.jpg")  # the same person again
    page.click("#submit")
    expect(page.locator("#duplicates")).to_be_focused()
    shot(page, "enrol-duplicate")

    search(page, "obama2.jpg")
    expect(page.locator("#matches li").first).to_contain_text("Barack Obama")
    shot(page, "search-results")
    phone = tab(browser, portal, PHONE)
    phone.goto(page.url)
    expect(phone.locator("#matches li").first).to_contain_text("Barack Obama")
    shot(phone, "phone-results")

    search(page, "biden.jpg", threshold="95")
    expect(page.locator("#no-match")).to_be_visible()
    shot(page, "search-none")

    admin = tab(browser, portal, who="ada")
    admin.goto("/admin/audit")
    expect(admin.locator("#audit-table")).to_contain_text("add_face")
    shot(admin, "audit")


@pytest.mark.screenshots
def test_batch(browser, portal, tmp_path):
    rows = [{"faceImage": f"staff/{i:02d}.jpg", "name": name, "country": "ID", "externalReferenceId": f"JKT-2026-{i:04d}"}
            for i, name in enumerate(["Ayu Lestari", "Budi Santoso", "Citra Dewi", "Dewi Anggraini", "Eko Prasetyo",
                                      "Fitri Handayani", "Gilang Ramadhan", "Hendra Wijaya", "Indah Permata",
                                      "Joko Susilo", "Kartika Sari", "Lukman Hakim"])]
    pictures = {row["faceImage"]: face(("obama.jpg", "biden.jpg", "obama2.jpg")[i % 3]) for i, row in enumerate(rows)}
    archive, manifest = tmp_path / "jakarta-office.zip", tmp_path / "jakarta-office.csv"
    archive.write_bytes(make_zip(pictures | {"staff/13.jpg": face("obama.jpg")[:4000]}))
    manifest.write_bytes(make_manifest(rows + [{"faceImage": "staff/13.jpg", "name": "Maya Putri", "country": "ID"},
                                               {"faceImage": "staff/14.jpg", "name": "Nanda Pratama", "country": "XX"}]))
    page = tab(browser, portal)
    page.goto("/batch/new")
    page.set_input_files("#archive", str(archive))
    page.set_input_files("#manifest", str(manifest))
    pick_face_set(page, FACE_SET)
    page.click("#submit")
    expect(page.locator("#review h2")).to_contain_text("with problems", timeout=60000)
    shot(page, "batch-review")
    page.click("#start")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        value = float(page.locator("#job-bar").get_attribute("value") or 0) if page.locator("#job-bar").count() else 0
        if 40 <= value < 90:
            shot(page, "batch-running")
            break
        time.sleep(0.05)
    else:
        pytest.fail("the job never showed between 40 and 90 %")
    expect(page.locator("#job-state")).to_have_text("finished", timeout=60000)


@pytest.mark.screenshots
def test_camera(camera_browser, portal):  # noqa: F811
    context = camera_browser.new_context(base_url=portal.url.replace("127.0.0.1", "localhost"), viewport=DESKTOP)
    page = context.new_page()
    sign_in(page)
    page.goto("/enrol/")
    pick_face_set(page, FACE_SET)
    page.click("#camera-open")
    for _ in range(100):  # until the fake camera's first frame arrives
        if page.evaluate("document.getElementById('camera-video').videoWidth") > 0:
            break
        page.wait_for_timeout(100)
    page.locator("#camera").evaluate("camera => camera.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(500)
    shot(page, "camera", full_page=False)
    context.close()


@pytest.mark.screenshots
def test_framed(browser, framed_portal):  # noqa: F811
    portal, allowed_port = framed_portal
    host = host_page(portal.url, allowed_port)
    page = browser.new_context(viewport={"width": 1000, "height": 800}).new_page()
    sign_in_inside_the_tool(page, allowed_port)
    shot(page, "framed", full_page=False)
    page.context.close()
    host.stop()


def test_every_picture_the_readme_shows_is_taken_here():
    """The README's screenshots cannot go stale unnoticed: each one it embeds is made by this module."""
    embedded = set(re.findall(r"\(docs/screenshots/([\w-]+)\.png\)", (ROOT / "README.md").read_text()))
    assert embedded == SHOTS
    assert {path.stem for path in (ROOT / "docs" / "screenshots").glob("*.png")} == SHOTS
