"""In a real browser: a clerk enrols a face with an ID number, checks the number on her result page, then
finds the person in the register by that number typed another way (issue 18, item 10)."""
from __future__ import annotations

import logging
import re

from playwright.sync_api import expect

from tests.support import FACES, pick_face_set
from tests.test_browser import loaded_width, page, screenshot  # noqa: F401  (page: the signed-in operator's tab)

TYPED = "3171-2345-6789-0001"
DIGITS = "3171234567890001"


def find_by_id_number(page, number: str) -> None:
    page.goto("/register/")
    page.fill("#find-id-number #idNumber", number)
    page.fill("#find-id-number #country", "Indonesia")
    page.click("#find-submit")


def test_enrol_with_an_id_number_check_it_then_find_the_entry_by_it(page, sandbox, face_set, caplog):  # noqa: F811
    caplog.set_level(logging.INFO)
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.fill("#name", "Ana Lima")
    page.fill("#idNumber", TYPED)
    page.fill("#idCardType", "KTP")
    page.fill("#country", "Indonesia")
    page.click("#submit")
    expect(page.locator("#id-number-typed")).to_have_text(TYPED)  # her own page: the number as she typed it
    expect(page.locator("#id-number-note")).to_contain_text("••••0001")
    screenshot(page, "enrol-result-id-number")

    find_by_id_number(page, "3171 2345 6789 0001")
    expect(page.locator("#found-summary")).to_contain_text("1 enrolment with the ID number ending ••••0001.")
    assert page.url.endswith("/register/find") and DIGITS not in re.sub(r"\D", "", page.url)
    rows = page.locator("#register-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("KTP ••••0001")
    page.click("#register-table a:has-text('Ana Lima')")
    expect(page.locator("h1")).to_have_text("Ana Lima")
    expect(page.locator("main")).to_contain_text("••••0001")
    expect(page.locator("main")).not_to_contain_text(DIGITS)

    find_by_id_number(page, "3171234567890002")  # one digit off: nobody
    expect(page.locator("#found-summary")).to_contain_text("0 enrolments with the ID number ending ••••0002.")
    expect(page.locator("#register-table tbody tr")).to_have_count(0)

    find_by_id_number(page, " - - ")  # no number at all: said so, the form kept, the register as usual below
    expect(page.locator("#find-id-number #idNumber-error")).to_have_text("Type the ID number to find.")
    expect(page.locator("#find-id-number #idNumber")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "register-find-without-a-number")

    find_by_id_number(page, TYPED)
    expect(page.locator("#register-table tbody tr")).to_have_count(1)
    assert loaded_width(page.locator("#register-table img.thumb")) > 0
    screenshot(page, "register-found-by-id-number")
    page.set_viewport_size({"width": 390, "height": 844})  # a phone, after the last click
    screenshot(page, "register-found-by-id-number-phone")

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST /register/find" in logged  # the requests were logged over real HTTP…
    assert DIGITS not in re.sub(r"[\s-]", "", logged)  # …never the number, however it was typed
