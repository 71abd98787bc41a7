"""In Chromium: drag and drop, the camera, and an accessibility check of every page."""
import json
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import FACES, browser_sign_in as sign_in, face, pick_face_set
from tests.support.batch_files import make_zip

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def tab(browser, live_portal):
    context = browser.new_context(base_url=live_portal.url, bypass_csp=True)  # bypass: to inject axe only
    page = context.new_page()
    yield page
    context.close()


def test_a_picture_dropped_on_the_form_is_attached_and_enrolled(tab, sandbox, face_set):
    sign_in(tab)
    tab.goto("/enrol/")
    pick_face_set(tab, face_set)
    data = list(face("obama2.jpg"))
    tab.evaluate("""(bytes) => {
        const file = new File([new Uint8Array(bytes)], "dropped.jpg", {type: "image/jpeg"});
        const transfer = new DataTransfer();
        transfer.items.add(file);
        const zone = document.getElementById("drop-zone");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""", data)
    expect(tab.locator("#picture-preview-caption")).to_contain_text("dropped.jpg: 626 × 1200 px")
    tab.click("#submit")
    expect(tab.locator("h1")).to_have_text("Face enrolled")
    assert sandbox.store.count_faces(face_set) == 1


@pytest.fixture
def camera_browser(playwright):
    """A second Chromium whose camera is the fake test device (a moving test pattern)."""
    from tests.support import CHROMIUM, CHROMIUM_FLAGS

    fake = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS + [
        "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"])
    yield fake
    fake.close()


def test_the_camera_takes_a_still_and_attaches_it(camera_browser, live_portal, face_set):
    context = camera_browser.new_context(base_url=live_portal.url.replace("127.0.0.1", "localhost"))
    page = context.new_page()
    sign_in(page)
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.click("#camera-open")
    expect(page.locator("#camera-video")).to_be_visible()
    for _ in range(100):  # until the first frame arrives (wait_for_function would need eval, which the CSP forbids)
        if page.evaluate("document.getElementById('camera-video').videoWidth") > 0:
            break
        page.wait_for_timeout(100)
    page.screenshot(path="/tmp/facesite-screenshots/camera.png")
    page.click("#camera-take")
    expect(page.locator("#camera")).to_be_hidden()
    expect(page.locator("#picture-preview-caption")).to_contain_text("camera.jpg")
    page.click("#submit")
    # The fake camera shows a test pattern, not a face: the still reaches the vendor, who finds no face.
    expect(page.locator("#problem")).to_contain_text("No face detected")
    expect(page.locator("#picture-preview")).to_contain_text("still attached")
    context.close()


PAGES = ["/auth/login", "/enrol/", "/search/", "/register/", "/auth/password", "/auth/sessions", "/admin/users", "/admin/audit",
         "/admin/face-sets", "/admin/settings", "/batch/", "/batch/new"]


def serious_violations(page) -> list[str]:
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}"
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def test_no_serious_accessibility_violations_on_any_page(tab, client, face_set, tmp_path):
    assert AXE.exists(), "bin/test installs axe-core with npm (tests/a11y)"
    found = {}
    tab.goto("/auth/login")
    found["/auth/login"] = serious_violations(tab)
    sign_in(tab, "ada")
    for url in PAGES[1:]:
        tab.goto(url)
        found[url] = serious_violations(tab)
    # pages with results and errors too
    tab.goto("/enrol/")
    pick_face_set(tab, face_set)
    tab.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    tab.click("#submit")
    found["enrol result"] = serious_violations(tab)
    tab.goto("/search/")
    pick_face_set(tab, face_set)
    tab.set_input_files("#faceImage", str(FACES / "obama2.jpg"))
    tab.click("#submit")
    found["search results"] = serious_violations(tab)
    tab.goto("/enrol/")
    pick_face_set(tab, "not-in-the-catalogue")
    tab.click("#submit")
    found["form with errors"] = serious_violations(tab)
    archive = tmp_path / "two.zip"
    archive.write_bytes(make_zip({"one.jpg": (FACES / "obama.jpg").read_bytes(), "two.jpg": b"not a picture"}))
    tab.goto("/batch/new")
    tab.set_input_files("#archive", str(archive))
    pick_face_set(tab, face_set)
    tab.click("#submit")
    expect(tab.locator("#review")).to_contain_text("1 with problems")
    found["batch review"] = serious_violations(tab)
    tab.click("#start")
    expect(tab.locator("#job-state")).to_have_text("finished", timeout=30000)
    found["batch job"] = serious_violations(tab)
    assert {url: v for url, v in found.items() if v} == {}, json.dumps(found, indent=1)


def test_the_form_can_be_used_with_the_keyboard_alone(tab, face_set):
    sign_in(tab)
    tab.goto("/enrol/")
    tab.keyboard.press("Tab")
    seen = set()
    for _ in range(40):
        seen.add(tab.evaluate("document.activeElement.id"))
        tab.keyboard.press("Tab")
    assert {"faceSetId", "faceImage", "name", "country", "checkDuplicates", "submit"} <= seen
    outline = tab.evaluate("getComputedStyle(document.activeElement, ':focus-visible').outlineStyle")
    assert outline != "none"


def test_the_accessibility_checker_really_runs(tab):
    tab.set_content("<html><body><img src='x.png'><input type='text'></body></html>")
    assert serious_violations(tab)  # an image without alt text and an unlabelled field are caught
