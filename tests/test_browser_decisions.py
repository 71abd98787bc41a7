"""The enrol page stops and asks before a mistake that cannot be undone from the portal (issue 18, items 2
and 3), walked in a real browser against the sandbox: a picture of several people, and a person who
looks enrolled already. Nothing typed is lost either way."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.support import FACES, browser_sign_in as sign_in, pick_face_set
from tests.test_browser import loaded_width, page, screenshot  # noqa: F401  (the signed-in tab fixture)

GROUP = str(FACES / "obama_and_biden.jpg")  # three faces: two men and, small, a child


def fill_person(page, face_set, picture, name, reference="EMP-7"):
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", picture)
    page.fill("#name", name)
    page.fill("#externalReferenceId", reference)
    page.fill("#country", "Indonesia")


def enrol_first(page, face_set):
    """Barack Obama in the face set, enrolled through the form (the duplicate check finds nobody yet)."""
    fill_person(page, face_set, str(FACES / "obama.jpg"), "Barack Obama", "EMP-1")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    return page.url


def assert_at_top_and_focused(page, selector):
    box = page.locator(selector)
    expect(box).to_be_visible()
    expect(box).to_be_focused()
    assert box.get_attribute("tabindex") == "-1" and box.get_attribute("role") == "alert"
    top = box.bounding_box()["y"] + page.evaluate("window.scrollY")  # from the top of the page
    assert top < 260, box.bounding_box()  # above the form's fields, not below them


def test_a_group_photo_is_asked_about_then_the_largest_face_is_enrolled(page, sandbox, face_set):  # noqa: F811
    fill_person(page, face_set, GROUP, "Two People")
    page.click("#submit")
    assert_at_top_and_focused(page, "#faces-question")
    expect(page.locator("#faces-title")).to_have_text("3 faces in this picture")
    assert loaded_width(page.locator("#faces-outlined")) > 300  # the picture, each face outlined and numbered
    expect(page.locator("#use-largest")).to_have_class("button primary")
    expect(page.locator("#name")).to_have_value("Two People")  # nothing typed is lost
    expect(page.locator("#externalReferenceId")).to_have_value("EMP-7")
    assert sandbox.store.count_faces(face_set) == 0  # nothing enrolled before the answer

    page.click("#use-largest")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    expect(page.locator("main")).to_contain_text("Two People")
    assert sandbox.store.count_faces(face_set) == 1


def test_a_group_photo_then_another_picture_keeps_every_detail(page, sandbox, face_set):  # noqa: F811
    fill_person(page, face_set, GROUP, "Joe Biden", "EMP-9")
    page.click("#submit")
    expect(page.locator("#faces-question")).to_be_focused()
    page.click("#other-picture")
    notice = page.locator("#another-picture")
    expect(notice).to_be_focused()
    expect(notice).to_contain_text("Attach a picture of this person alone")
    expect(page.locator("#faces-question")).to_have_count(0)
    expect(page.locator("#picture-preview")).to_be_hidden()  # the group photo is gone
    expect(page.locator("#name")).to_have_value("Joe Biden")
    expect(page.locator("#externalReferenceId")).to_have_value("EMP-9")
    expect(page.locator("#faceSetId")).to_have_value(face_set)
    page.set_input_files("#faceImage", str(FACES / "biden.jpg"))
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    assert sandbox.store.count_faces(face_set) == 1


def test_a_likely_duplicate_is_warned_at_the_top_and_the_record_opens(page, sandbox, face_set):  # noqa: F811
    enrol_first(page, face_set)
    fill_person(page, face_set, str(FACES / "obama2.jpg"), "Barack H. Obama", "EMP-2")
    expect(page.locator("#checkDuplicates")).to_be_checked()  # on by default (an admin setting)
    expect(page.locator("#duplicate-charge")).to_contain_text("the vendor charges for each search")
    page.click("#submit")
    assert_at_top_and_focused(page, "#duplicates")
    expect(page.locator("#duplicates-title")).to_have_text("This person may be enrolled already")
    record = page.locator("#open-record")
    expect(record).to_have_text("Same person: open the record")
    expect(record).to_have_class("button primary")
    expect(page.locator("#enrol-anyway")).to_have_class("button")
    expect(page.locator("#duplicates")).to_contain_text("Barack Obama")
    assert sandbox.store.count_faces(face_set) == 1

    record.click()
    expect(page.locator("h1")).to_have_text("Barack Obama")
    assert "/register/" in page.url
    assert sandbox.store.count_faces(face_set) == 1


def test_a_likely_duplicate_can_still_be_enrolled_anyway(page, sandbox, face_set):  # noqa: F811
    enrol_first(page, face_set)
    fill_person(page, face_set, str(FACES / "obama2.jpg"), "Barack H. Obama", "EMP-2")
    page.click("#submit")
    expect(page.locator("#duplicates")).to_be_focused()
    expect(page.locator("#name")).to_have_value("Barack H. Obama")
    page.click("#enrol-anyway")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    expect(page.locator("main")).to_contain_text("Barack H. Obama")
    assert sandbox.store.count_faces(face_set) == 2


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("question", ["faces-question", "duplicate-warning-after"])
def test_the_questions_at_both_widths(browser, live_portal, sandbox, face_set, width, question):
    """Screenshots of each question on a laptop and a phone (the last thing done in the tab: after a
    full-page screenshot at phone width Chromium may drop the next click)."""
    context = browser.new_context(base_url=live_portal.url, viewport={"width": width, "height": 900})
    tab = context.new_page()
    sign_in(tab)
    if question == "faces-question":
        fill_person(tab, face_set, GROUP, "Two People")
    else:
        enrol_first(tab, face_set)
        fill_person(tab, face_set, str(FACES / "obama2.jpg"), "Barack H. Obama", "EMP-2")
    tab.click("#submit")
    assert_at_top_and_focused(tab, "#faces-question" if question == "faces-question" else "#duplicates")
    assert tab.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
    screenshot(tab, question if width == 1280 else f"{question}-{width}")
    context.close()
