"""Staff who read Bahasa Indonesia, Thai or Vietnamese walk the portal in Chromium: sign-in, enrol (one
refused by the vendor), search results, the register, a batch job and the audit log. No visible text may
be left in English but the things that are never translated: codes, ids, field names, the vendor's own
messages, names and files staff typed. Screenshots go to $SCREENSHOT_DIR (or /tmp/facesite-screenshots)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.support import FACES, PASSWORD, STAFF, face, pick_face_set
from tests.support.batch_files import make_manifest, make_zip
from tests.support.layout_check import LayoutWatch
from tests.test_browser import screenshot
from tests.test_translations import catalogue, extracted

# Never translated, wherever they appear: the product and the vendor, codes, the API's field names, file
# types and units, the vendor's own messages (letter for letter), and the sandbox's demo set (data).
UNTRANSLATED = [
    "FaceSet not found, id:", "File should be an image file, like jpg, png, jpeg.", "No face detected",
    "facesite", "ADVANCE.AI", "sandbox", "Sandbox", "faceSetId", "faceImage", "externalReferenceId", "idNumber",
    "idCardType", "country", "name", "topK", "threshold", "PAY", "FREE", "HTTP", "Demo face set", "Catalogue",
    "KTP", "English", "Bahasa Indonesia", "Bahasa Melayu", "Español (México)", "Tiếng Việt",
]
CODE = re.compile(r"\b[A-Z][A-Z0-9_]{2,}\b|\b[a-z]+(?:_[a-z]+)+\b")  # PARAMETER_ERROR, JPEG, UTC; sign_in
# Ids made of hex digits and dashes (a UUID reference, a transaction id): "42448add-…" once read as the word "add".
HEX_ID = re.compile(r"\b(?=[0-9a-fA-F-]*\d)[0-9a-fA-F]+(?:-[0-9a-fA-F]+)*\b")
STOPWORDS = {"the", "and", "with", "from", "this", "that", "your", "for", "not", "are", "was", "has", "have",
             "you", "here", "there", "when", "what", "which", "been", "will", "into", "than", "then", "only"}
WALK_LANGUAGES = ("id", "th", "vi")


def english_words(code: str) -> set[str]:
    """Words of the portal's English messages that the language's own translations never use."""
    def words(text: str) -> set[str]:
        text = re.sub(r"%\(\w+\)[sd]|\{\w+\}", " ", text)
        return {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)}

    english, local = set(STOPWORDS), set()
    for _context, message in extracted():
        english |= words(message if isinstance(message, str) else " ".join(message))
    for m in catalogue(code):
        local |= words(" ".join(m.string) if isinstance(m.string, tuple) else m.string or "")
    return english - local


VISIBLE_TEXT = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    // <code> holds codes, ids and the API's names (PARAMETER_ERROR, add_face, a transactionId): never translated.
    if (!node.textContent.trim() || !parent || parent.closest("script, style, datalist, [hidden], code")) continue;
    if (!parent.checkVisibility()) continue;
    texts.push(node.textContent.trim());
  }
  for (const el of document.querySelectorAll("input[type=submit], button, [aria-label], img[alt], [placeholder]")) {
    if (!el.checkVisibility()) continue;
    for (const attr of ["value", "aria-label", "alt", "placeholder"]) {
      const value = el.getAttribute(attr);
      if (value && !(attr === "value" && el.tagName === "INPUT" && el.type !== "submit")) texts.push(value);
    }
  }
  return texts;
}"""


class EnglishLeft:
    """Collects visible text left in English on each page of the walk."""

    def __init__(self, code: str, data: list[str]):
        self.words = english_words(code)
        self.data = sorted(UNTRANSLATED + data, key=len, reverse=True)
        self.found: list[str] = []

    def leftovers(self, text: str) -> list[str]:
        """The English words in ``text`` once the things never translated are taken out."""
        for allowed in self.data:
            text = text.replace(allowed, " ")
        return [w for w in re.findall(r"[A-Za-z]{3,}", CODE.sub(" ", HEX_ID.sub(" ", text))) if w.lower() in self.words]

    def check(self, page, where: str) -> None:
        for text in page.evaluate(VISIBLE_TEXT):
            left = self.leftovers(text)
            if left:
                self.found.append(f"{where}: {text!r} ({', '.join(left)})")


@pytest.mark.parametrize("code", WALK_LANGUAGES)
def test_the_english_detector_finds_english_and_lets_codes_and_vendor_words_through(code):
    english = EnglishLeft(code, ["Ani Wijaya"])
    assert english.leftovers("Search results") and english.leftovers("Upload the rows left in another batch.")
    assert english.leftovers("The picture that was sent")
    assert english.leftovers("add 42448add") == ["add"]  # the word still counts, an id holding it does not
    for untranslated in ("PARAMETER_ERROR", "FaceSet not found, id: demo", "faceSetId", "Ani Wijaya", "sign_in",
                         "42448add-576a-4d6b-847f-f9b82d8063c4", "fbec057af36777668557fc0e8e9ad6f6",
                         "File should be an image file, like jpg, png, jpeg.", "JPEG, 2000 × 1428 px"):
        assert not english.leftovers(untranslated), untranslated


class WalkChecks(EnglishLeft):
    """English left on each page of the walk, and what the layout check finds wrong with it at this width
    (longer words than English: Thai without spaces, Vietnamese with its accents)."""

    def __init__(self, code: str, data: list[str], page):
        super().__init__(code, data)
        self.layout = LayoutWatch(page)

    def check(self, page, where: str) -> None:
        super().check(page, where)
        self.found += [f"{where}: {problem}" for problem in self.layout.problems()]


# Every language on a laptop; the two whose words run longest on a phone too.
WALKS = [(code, 1280) for code in WALK_LANGUAGES] + [("th", 390), ("vi", 390)]


@pytest.mark.parametrize(("code", "width"), WALKS)
def test_a_walk_through_the_portal_shows_no_english(browser, live_portal, sandbox, face_set, tmp_path, code, width):
    context = browser.new_context(base_url=live_portal.url, locale=code, viewport={"width": width, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    admin = STAFF["admin"]
    english = WalkChecks(code, [face_set, admin, "Ani Wijaya", "obama.jpg", "obama2.jpg", "branch.zip", "staff",
                                "no-such-set", "Operator Satu", "Operator Dua"], page)
    # Pictures on a laptop only: after a full-page screenshot at phone width Chromium let the next click on
    # the form's button send nothing (the same walk without the picture passes).
    shot = (lambda name: screenshot(page, f"{code}-{name}")) if width == 1280 else (lambda name: None)  # noqa: E731

    page.goto("/auth/login")  # the browser's language, before anyone chose
    expect(page.locator("html")).to_have_attribute("lang", code)
    english.check(page, "sign-in")
    page.fill("#username", admin)
    page.fill("#password", PASSWORD)
    page.click("#submit")

    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.fill("#name", "Ani Wijaya")
    page.fill("#country", "ID")
    english.check(page, "enrol form")
    shot("enrol-form")
    page.click("#submit")
    expect(page.locator("#face-id")).to_be_visible()
    english.check(page, "enrol result")

    page.goto("/enrol/")  # a set the portal's catalogue names but the vendor does not have
    pick_face_set(page, "no-such-set")
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.click("#submit")
    expect(page.locator("#problem .code")).to_have_text("PARAMETER_ERROR")
    expect(page.locator("#problem .vendor-message")).to_contain_text("FaceSet not found, id: no-such-set")
    english.check(page, "vendor error")
    shot("enrol-vendor-error")

    page.goto("/search/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama2.jpg"))
    english.check(page, "search form")
    page.click("#submit")
    expect(page.locator("#matches .match")).to_have_count(1)
    english.check(page, "search results")
    shot("search-results")

    page.goto("/register/")
    english.check(page, "register")
    page.locator("#register-table a").first.click()
    english.check(page, "register entry")

    archive, manifest = tmp_path / "branch.zip", tmp_path / "branch.csv"
    archive.write_bytes(make_zip({"staff/1.jpg": face("biden.jpg"), "staff/2.jpg": face("obama2.jpg")}))
    manifest.write_bytes(make_manifest([{"faceImage": "staff/1.jpg", "name": "Operator Satu"},
                                        {"faceImage": "staff/2.jpg", "name": "Operator Dua"}]))
    page.goto("/batch/new")
    english.check(page, "batch upload")
    page.set_input_files("#archive", str(archive))
    page.set_input_files("#manifest", str(manifest))
    pick_face_set(page, face_set)
    page.click("#submit")
    expect(page.locator("#start")).to_be_visible()
    english.check(page, "batch review")
    page.click("#start")
    expect(page.locator("#count-done")).to_have_text("2", timeout=60_000)
    english.check(page, "batch job")
    page.goto("/batch/")
    english.check(page, "batch list")

    page.goto("/admin/audit")
    english.check(page, "audit log")
    page.goto("/admin/security")
    english.check(page, "security log")
    context.close()
    assert not errors, errors
    assert not english.found, "\n".join(english.found)
