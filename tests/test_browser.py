"""Staff use the enrol page in a real browser (Debian's Chromium, driven by Playwright)."""
import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import FACES, browser_sign_in as sign_in, pick_face_set


@pytest.fixture
def page(browser, live_portal):
    """An operator's browser tab, signed in; fails the test on any JavaScript error or CSP violation."""
    context = browser.new_context(base_url=live_portal.url, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text else None)
    sign_in(page)
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def loaded_width(locator) -> int:
    """The natural width of an <img> once it has finished loading (0 if it failed): a page's heading can be
    there before its pictures, so reading naturalWidth at once raced with the download."""
    locator.element_handle().wait_for_element_state("visible")
    locator.page.wait_for_function("img => img.complete", arg=locator.element_handle())
    return locator.evaluate("img => img.naturalWidth")


def screenshot(page, name):
    folder = Path(os.environ.get("SCREENSHOT_DIR") or "/tmp/facesite-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_staff_enrol_a_face_and_read_the_result(page, sandbox, face_set):
    page.goto("/enrol/")
    expect(page.locator(".sandbox-banner")).to_contain_text("Sandbox mode")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama_and_biden.jpg"))
    expect(page.locator("#picture-preview")).to_be_visible()
    page.fill("#name", "Two People")
    page.fill("#country", "Indonesia")
    page.fill("#idCardType", "KTP")
    screenshot(page, "enrol-form")
    page.click("#submit")
    # Three people in the picture: the page asks before enrolling anyone, and staff choose the largest face.
    expect(page.locator("#faces-question")).to_be_focused()
    assert sandbox.store.count_faces(face_set) == 0
    page.click("#use-largest")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    assert page.locator("#face-id").inner_text().isdigit()
    expect(page.locator("#vendor-note")).to_contain_text("faces found in the picture; the largest one was used")
    expect(page.locator("main")).to_contain_text("ID — Indonesia")
    # A 559 KB photo is previewed by a small copy (what was sent is not stored once it succeeded); the
    # caption gives the real picture's size.
    assert 240 <= loaded_width(page.locator("#sent-picture")) <= 480
    expect(page.locator("figcaption")).to_contain_text("JPEG, 2000 × 1428 px")
    screenshot(page, "enrol-result")
    page.reload()  # a refresh shows the result again and sends nothing
    expect(page.locator("h1")).to_have_text("Face enrolled")
    assert sandbox.store.count_faces(face_set) == 1


def test_a_too_small_picture_is_refused_in_the_browser_before_upload(page, sandbox, face_set):
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    requests_sent = []
    page.on("request", lambda request: requests_sent.append(request.method))
    page.set_input_files("#faceImage", str(FACES / "obama-240p.jpg"))
    error = page.locator("#faceImage-error")
    expect(error).to_contain_text("Image resolution should be 256 * 256 to 4096 * 4096")
    page.click("#submit")
    expect(error).to_be_visible()
    assert "POST" not in requests_sent
    assert page.locator("#faceImage").get_attribute("aria-describedby") == "faceImage-hint faceImage-error"
    screenshot(page, "enrol-precheck")
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    expect(error).to_be_hidden()


def test_after_a_vendor_error_nothing_is_retyped_or_uploaded_again(page, sandbox, face_set):
    page.goto("/enrol/")
    pick_face_set(page, "no-such-set")  # in the catalogue, unknown to the vendor
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.fill("#name", "Ana Lima")
    page.fill("#idNumber", "12345")
    page.click("#submit")
    expect(page.locator("#problem")).to_contain_text("FaceSet not found, id: no-such-set")
    expect(page.locator("#faceSetId-error")).to_contain_text("FaceSet not found")
    expect(page.locator("#name")).to_have_value("Ana Lima")
    expect(page.locator("#picture-preview")).to_contain_text("still attached")
    assert page.locator("#picture-preview-img").evaluate("img => img.naturalWidth") == 910
    screenshot(page, "enrol-error")
    pick_face_set(page, face_set)
    page.click("#submit")  # no file chosen again
    expect(page.locator("h1")).to_have_text("Face enrolled")
    expect(page.locator("main")).to_contain_text("Ana Lima")
    assert sandbox.store.count_faces(face_set) == 1


def test_a_double_click_sends_the_face_once(page, sandbox, face_set):
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama2.jpg"))
    page.dblclick("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    assert sandbox.store.count_faces(face_set) == 1


def test_the_form_works_without_javascript(browser, live_portal, sandbox, face_set):
    context = browser.new_context(base_url=live_portal.url, java_script_enabled=False)
    page = context.new_page()
    sign_in(page)
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    context.close()


def test_enrol_then_find_the_person_by_another_photo(page, sandbox, face_set):
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.fill("#name", "Person A")
    page.fill("#country", "US")
    page.fill("#externalReferenceId", "visitor-17")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")

    page.click("text=Search")
    expect(page.locator("#charge-notice")).to_contain_text("charged")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama2.jpg"))
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Search results")
    first = page.locator("#matches li").first
    expect(first.locator(".match-name")).to_contain_text("Person A")
    expect(first).to_contain_text("US — United States")
    expect(first).to_contain_text("visitor-17")
    assert float(first.locator(".score").inner_text()) > 80
    assert loaded_width(first.locator("img.thumb")) > 0
    screenshot(page, "search-results")

    page.goto("/search/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "biden.jpg"))
    page.fill("#threshold", "80")
    page.click("#submit")
    expect(page.locator("#no-match")).to_contain_text("No one above 80.")
    screenshot(page, "search-none")
