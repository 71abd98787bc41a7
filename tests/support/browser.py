"""Debian's Chromium driven by Playwright (no browser download: Playwright's own builds are not used)."""
from __future__ import annotations

from tests.support.portal import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def pick_face_set(page, face_set: str) -> None:
    """Chooses a face set as staff do: from the drop-down (by id or by what it shows), else typed into the
    type-ahead box (a long catalogue). ``page`` may be a frame. A face set the drop-down does not offer is
    sent as a page opened before an administrator took it out of the catalogue would send it."""
    field = page.locator("#faceSetId")
    if field.evaluate("element => element.tagName") != "SELECT":
        field.fill(face_set)
    elif field.evaluate("(select, wanted) => [...select.options].some(o => o.value === wanted || o.text === wanted)",
                        face_set):
        field.select_option(face_set)
    else:
        field.evaluate("(select, gone) => { select.add(new Option(gone, gone)); select.value = gone; }", face_set)


def browser_sign_in(page, username="otto"):
    from playwright.sync_api import expect

    page.goto("/auth/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page.locator(".account")).to_contain_text(username)
