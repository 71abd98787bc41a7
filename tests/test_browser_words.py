"""Issue 18, items 8 and 9, in a real browser: a clerk's morning (enrol, a picture with no face, search, the
register, the sign-in page) shows the portal's one vocabulary (docs/vocabulary.md) and none of the retired
words, times with their zone, scores as the vendor gave them."""
from __future__ import annotations

import io
import re

from PIL import Image
from playwright.sync_api import expect

from tests.support import FACES, pick_face_set
from tests.test_browser import page, screenshot  # noqa: F401  (the signed-in operator's tab)
from tests.test_vocabulary import retired_in

TIME_WITH_ZONE = re.compile(r"\b20\d\d, \d\d:\d\d UTC\b")


def no_retired_words(page) -> None:
    text = page.locator("main").inner_text()
    assert not retired_in(text), retired_in(text)


def plain_grey_jpeg(tmp_path) -> str:
    out = io.BytesIO()
    Image.new("RGB", (480, 480), (128, 128, 128)).save(out, "JPEG")
    path = tmp_path / "wall.jpg"
    path.write_bytes(out.getvalue())
    return str(path)


def test_a_clerks_morning_uses_one_vocabulary(page, sandbox, face_set, tmp_path):
    page.goto("/enrol/")
    expect(page.locator("#submit")).to_have_value("Enrol")
    expect(page.locator("label[for=externalReferenceId]")).to_have_text(re.compile("^Reference"))
    expect(page.locator("label[for=idCardType]")).to_have_text(re.compile("^ID type"))
    no_retired_words(page)

    # A picture without a face: plain words first, the vendor's own message beside them.
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", plain_grey_jpeg(tmp_path))
    page.click("#submit")
    expect(page.locator("#problem h2")).to_have_text("No face was found in the picture.")
    expect(page.locator("#problem .vendor-message")).to_have_text("Failed to embed image: No face detected")

    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.fill("#name", "Vocabulary Person")
    page.fill("#idCardType", "KTP")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    expect(page.locator("main")).to_contain_text("Reference")
    expect(page.locator("main")).to_contain_text("ID type")
    no_retired_words(page)

    page.goto("/search/")
    expect(page.locator("label[for=topK]")).to_have_text(re.compile("^Most matches to show"))
    expect(page.locator("label[for=threshold]")).to_have_text(re.compile("^Minimum score"))
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.click("#submit")
    expect(page.locator("main")).to_contain_text("1 match.")
    score = page.locator(".score").first.inner_text()
    assert re.fullmatch(r"\d+(\.\d+)?", score) and not score.endswith(".0"), score
    assert TIME_WITH_ZONE.search(page.locator("main").inner_text())
    no_retired_words(page)
    screenshot(page, "words-search-results")

    page.goto("/register/")
    expect(page.locator("main")).to_contain_text(re.compile(r"\d+ enrolments?\."))
    assert TIME_WITH_ZONE.search(page.locator("#register-table").inner_text())
    no_retired_words(page)


def test_the_sign_in_page_speaks_to_clerks_not_to_whoever_installed_the_portal(browser, live_portal):
    context = browser.new_context(base_url=live_portal.url)
    tab = context.new_page()
    tab.goto("/auth/login")
    expect(tab.locator("main")).to_contain_text("No account yet? Ask an administrator.")
    expect(tab.locator("main")).not_to_contain_text("log")  # the first-administrator link is for the installer
    context.close()
