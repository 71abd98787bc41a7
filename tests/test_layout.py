"""What staff see, checked in Chromium: every page in each of its real states, at a phone's width, a
laptop's and a wide screen's, filled with the longest values staff type (tests/support/layout_world.py). A page
fails on text squeezed into a sliver, sideways scrolling, overlapping text, a table cell out of reach,
a sub-resource answering 4xx/5xx, or a console error (tests/support/layout_check.py)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from playwright.sync_api import expect

from tests.support import FACES, browser_sign_in as sign_in, layout_world, pick_face_set
from tests.support.layout_check import LayoutWatch
from tests.support.servers import ServerThread, envelope

WIDTHS = (390, 1280, 1920)


@dataclass(frozen=True)
class State:
    page: str
    state: str
    open: str | Callable  # a URL (a key of world.urls, or a path), or what a person does to get there
    who: str | None = "ada"  # the account signed in; None: nobody

    @property
    def id(self) -> str:
        return f"{self.page}-{self.state}".replace(" ", "-")


def _fill_enrol(tab, face_set=layout_world.FACE_SET):
    tab.goto("/enrol/")
    pick_face_set(tab, face_set)
    tab.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    tab.fill("#name", layout_world.NAME)
    tab.fill("#externalReferenceId", layout_world.REFERENCE)
    tab.fill("#idCardType", layout_world.THAI)


def enrol_form_error(tab, world):
    _fill_enrol(tab, "not-in-the-catalogue-" + layout_world.REFERENCE)
    tab.click("#submit")
    expect(tab.locator("#faceSetId-error")).to_be_visible()


def enrol_vendor_error(tab, world):
    world.vendor.add_face.append(envelope("PARAMETER_ERROR", layout_world.long_note("Vendor")))
    _fill_enrol(tab)
    tab.click("#submit")
    expect(tab.locator("#problem")).to_contain_text("PARAMETER_ERROR")


def enrol_duplicates(tab, world):
    world.vendor.search.append(layout_world.matches())
    _fill_enrol(tab)
    tab.check("#checkDuplicates")
    tab.click("#submit")
    expect(tab.locator("#duplicates")).to_contain_text(layout_world.NAME)


def enrol_several_faces(tab, world):
    world.vendor.search.append(envelope(data={"total": 0, "faceReferences": []}, pricing="PAY", extra={
        "faceCount": 3, "faceRect": {"left": 200, "top": 150, "width": 400, "height": 400}}))
    _fill_enrol(tab)
    tab.click("#submit")
    expect(tab.locator("#faces-question")).to_contain_text("3 faces in this picture")


def search_form_error(tab, world):
    tab.goto("/search/")
    pick_face_set(tab, layout_world.FACE_SET)
    tab.fill("#topK", "500")
    tab.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    tab.click("#submit")
    expect(tab.locator("#topK-error")).to_be_visible()


def search_vendor_error(tab, world):
    world.vendor.search.append(envelope("INSUFFICIENT_BALANCE", layout_world.long_note("Vendor")))
    tab.goto("/search/")
    pick_face_set(tab, layout_world.FACE_SET)
    tab.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    tab.click("#submit")
    expect(tab.locator("#problem")).to_contain_text("INSUFFICIENT_BALANCE")


def sign_in_error(tab, world):
    tab.goto("/auth/login")
    tab.fill("#username", layout_world.LONG_USER)
    tab.fill("#password", "not the password")
    tab.click("#submit")
    expect(tab.locator(".error, .problem, .flash").first).to_be_visible()


def batch_upload_error(tab, world):
    tab.goto("/batch/new")
    tab.set_input_files("#archive", {"name": f"{layout_world.NAME}.zip", "mimeType": "application/zip",
                                     "buffer": b"these are not photos"})
    pick_face_set(tab, layout_world.FACE_SET)
    tab.click("#submit")
    expect(tab.locator("#upload-problem")).to_be_visible()


def password_error(tab, world):
    tab.goto("/auth/password")
    tab.locator("form.narrow button[type=submit], form.narrow input[type=submit]").first.click()
    expect(tab.locator(".error").first).to_be_visible()


def nav_menu_open(tab, world):
    tab.goto("/register/")
    if tab.locator(".menu > summary").is_visible():
        tab.click(".menu > summary")


STATES = [
    State("sign-in", "empty", "/auth/login", None),
    State("sign-in", "form error", sign_in_error, None),
    State("enrol", "empty", "/enrol/", "otto"),
    State("enrol", "form error", enrol_form_error),
    State("enrol", "vendor error", enrol_vendor_error),
    State("enrol", "duplicate check", enrol_duplicates),
    State("enrol", "several faces", enrol_several_faces),
    State("enrol", "success", "enrol result"),
    State("search", "empty", "/search/"),
    State("search", "form error", search_form_error),
    State("search", "vendor error", search_vendor_error),
    State("search", "matches", "search results"),
    State("search", "no match", "search none"),
    State("register", "many rows", "/register/"),
    State("register", "second page", "/register/?page=2"),
    State("register", "empty", "/register/?name=nobody-by-this-name"),
    State("register", "entry", "register entry"),
    State("audit", "many rows", "/admin/audit"),
    State("audit", "empty", "/admin/audit?user=nobody"),
    State("security log", "many rows", "/admin/security"),
    State("users", "filled", "/admin/users"),
    State("users", "user page", "user page"),
    State("face sets", "filled", "/admin/face-sets"),
    State("face sets", "edit", f"/admin/face-sets/{layout_world.FACE_SET}"),
    State("settings", "filled", "/admin/settings"),
    State("password", "empty", "/auth/password"),
    State("sessions", "filled", "/auth/sessions"),
    State("password", "form error", password_error),
    State("batch list", "filled", "/batch/"),
    State("batch list", "empty", "/batch/", "otto"),
    State("batch new", "empty", "/batch/new"),
    State("batch new", "upload error", batch_upload_error),
    State("batch", "uploaded", "batch uploaded"),
    State("batch", "review", "batch review"),
    State("batch", "running", "batch running"),
    State("batch", "paused", "batch paused"),
    State("batch", "finished", "batch finished"),
    State("menu", "open", nav_menu_open),
    State("error", "not found", "/register/999999"),
]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    built = layout_world.build(str(tmp_path_factory.mktemp("layout") / "instance"))
    server = ServerThread(built.app)
    built.url = server.url
    yield built
    server.stop()
    built.vendor.stop()


@pytest.fixture(scope="module")
def tabs(browser, world):
    """One tab per width and account, signed in once and reused by every state."""
    opened = {}

    def tab(width: int, who: str | None):
        if (width, who) not in opened:
            context = browser.new_context(base_url=world.url, viewport={"width": width, "height": 900})
            page = context.new_page()
            if who:
                sign_in(page, who)
            opened[width, who] = (page, LayoutWatch(page))
        return opened[width, who]

    yield tab
    for page, _ in opened.values():
        page.context.close()


def show(state: State, tab, world) -> None:
    if callable(state.open):
        state.open(tab, world)
    else:
        tab.goto(world.urls.get(state.open, state.open))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("state", STATES, ids=lambda s: s.id)
def test_every_page_looks_right(state, width, tabs, world):
    tab, watch = tabs(width, state.who)
    watch.forget()
    show(state, tab, world)
    assert tab.title().endswith(" · facesite") and len(tab.title()) > len(" · facesite"), tab.title()
    found = watch.problems()
    if os.environ.get("SCREENSHOT_DIR"):  # to look at them all: SCREENSHOT_DIR=/tmp/x pytest tests/test_layout.py
        tab.screenshot(path=str(Path(os.environ["SCREENSHOT_DIR"]) / f"layout-{state.id}-{width}.png"), full_page=True)
    assert found == []


def test_the_menu_marks_the_current_page_and_the_skip_link_comes_first(tabs):
    tab, _ = tabs(390, "ada")
    tab.goto("/admin/audit?page=1")
    expect(tab.locator("nav[aria-label=Main] [aria-current=page]")).to_have_text("Audit log")
    expect(tab.locator("nav[aria-label=Main] a", has_text="Audit log")).to_be_hidden()  # folded on a phone
    tab.keyboard.press("Tab")
    expect(tab.locator(":focus")).to_have_text("Skip to main content")
    tab.keyboard.press("Enter")
    assert tab.evaluate("document.activeElement.id") == "main"
    tab.click(".menu > summary")
    expect(tab.locator("nav[aria-label=Main] a", has_text="Audit log")).to_be_visible()
    banner = tab.locator(".sandbox-banner").bounding_box()
    assert banner["height"] < 40, banner  # one line


def test_the_favicon_is_found(world):
    import requests

    answer = requests.get(world.url + "/favicon.ico", timeout=10)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("image/svg+xml")


BROKEN_RESULT = """<!doctype html><html><head><title>Broken · facesite</title><style>
  .result-grid { display: grid; grid-template-columns: auto 1fr; gap: 1.5rem; }
  .facts { display: grid; grid-template-columns: max-content 1fr; } dd { margin: 0; overflow-wrap: anywhere; }
</style></head><body><main style="max-width: 52rem; margin: auto"><div class="result-grid">
  <figure><img alt="" width="200" height="250"><figcaption>The picture that was sent: JPEG, 1820 × 2274 px, 756 KB.
    What the portal did to it: resized from 3640 × 4548 to 1820 × 2274; re-encoded PNG 3640 × 4548 as JPEG
    (quality 95), 8.7 MB → 0.8 MB; metadata removed.</figcaption></figure>
  <dl class="facts"><dt>Name</dt><dd>NAME</dd><dt>Reference</dt><dd>REFERENCE</dd></dl>
</div><table style="width: 1500px"><tr><td>a cell out of reach</td></tr></table></main></body></html>"""


def test_the_layout_check_catches_a_squeezed_result_page(browser):
    """The enrol result page as it was before issue 17: the caption widened the picture's column and the
    details were left a letter wide. The check must say so (and about the table pushed off the page)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    watch = LayoutWatch(tab)
    tab.set_content(BROKEN_RESULT.replace("NAME", layout_world.NAME).replace("REFERENCE", layout_world.REFERENCE))
    found = watch.problems()
    context.close()
    assert any(p.startswith("squeezed: <dd>") and layout_world.NAME[:20] in p for p in found), found
    assert any(p.startswith("the page scrolls sideways") for p in found), found
    assert any(p.startswith("cut off: table cell") for p in found), found


def test_the_layout_check_hears_failed_resources_and_console_errors(browser, world):
    context = browser.new_context(base_url=world.url, viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    watch = LayoutWatch(tab)
    tab.goto("/auth/login")
    with tab.expect_response("**/static/no-such-picture.png"):  # not a fixed wait: a busy machine is slower
        tab.evaluate("""() => { const img = document.createElement("img"); img.alt = "";
                                img.src = "/static/no-such-picture.png"; document.body.append(img);
                                console.error("something broke"); }""")
    found = watch.problems()
    context.close()
    assert any(p.startswith("404 for image") for p in found) and "console error: something broke" in found, found


def test_the_layout_check_sees_overlapping_text(browser):
    context = browser.new_context(viewport={"width": 390, "height": 900})
    tab = context.new_page()
    tab.set_content("<p style='margin:0'>First line of text</p><p style='margin:-1em 0 0'>Second line on top</p>")
    found = LayoutWatch(tab).problems()
    context.close()
    assert any(p.startswith("overlap: <p>") for p in found), found


def test_a_table_that_scrolls_without_a_visible_bar_counts_as_cut_off(browser):
    """The phone tables before issue 17: a scroll box with no sign that it scrolls."""
    context = browser.new_context(viewport={"width": 390, "height": 900})
    tab = context.new_page()
    tab.set_content("<table style='display:block; overflow-x:auto'><tr><td>Row</td><td>Photo</td><td>Name</td>"
                    "<td style='min-width:600px'>Result</td></tr></table>")
    found = LayoutWatch(tab).problems()
    context.close()
    assert [p.split(" lies")[0] for p in found if p.startswith("cut off")] == ['cut off: table cell <td> "Result"'], found
