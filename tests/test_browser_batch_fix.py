"""Issue 18, item 4: one mistake in a batch no longer means uploading everything again. In a real browser:
the face set is asked for first, before anything is sent; on the review page problem cells are typed
again in place, or a corrected manifest is checked against the same ZIP; the review then shows the rows
fixed, and starting sends them."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import face, pick_face_set
from tests.support.batch_files import make_manifest, make_zip
from tests.test_browser import page  # noqa: F401  (the signed-in tab fixture)

SHOTS = Path(os.environ.get("BATCHFIX_SHOTS") or "/work/shots/batchfix")


def shot(page, name: str, width: int = 1280) -> None:  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": width, "height": 900 if width > 600 else 844})
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def people(tmp_path, rows: list[dict]) -> tuple[Path, Path]:
    archive, manifest = tmp_path / "branch.zip", tmp_path / "branch.csv"
    archive.write_bytes(make_zip({f"staff/{i}.jpg": face(("obama.jpg", "biden.jpg", "obama2.jpg")[i % 3])
                                  for i in range(1, 5)}))
    manifest.write_bytes(make_manifest(rows))
    return archive, manifest


GOOD = [{"faceImage": "staff/1.jpg", "name": "Ana Lima", "country": "Indonesia"},
        {"faceImage": "staff/2.jpg", "name": "Budi Hartono", "country": "Indonesia"},
        {"faceImage": "staff/4.jpg", "name": "Citra Dewi", "country": "Indonesia"},
        {"faceImage": "staff/3.jpg", "name": "Dian Sari", "country": "Indonesia"}]


def with_mistakes(face_set: str) -> list[dict]:
    """Row 3 (as a spreadsheet numbers it) has a country that is none, row 4 names a file the ZIP does not
    hold (the photo is staff/4.jpg), row 5 a face set that is not in the catalogue."""
    rows = [dict(row) for row in GOOD]
    rows[1]["country"] = "Atlantis"
    rows[2]["faceImage"] = "staff/four.jpg"
    rows[3]["faceSetId"] = "staff-set-typo"
    return rows


def upload_with_mistakes(page, face_set: str, tmp_path) -> None:  # noqa: F811
    archive, manifest = people(tmp_path, with_mistakes(face_set))
    page.goto("/batch/new")
    pick_face_set(page, face_set)
    page.set_input_files("#archive", str(archive))
    page.set_input_files("#manifest", str(manifest))
    page.click("#submit")


def test_the_face_set_is_asked_for_first_before_the_files_are_sent(page, face_set, tmp_path):  # noqa: F811
    archive, manifest = people(tmp_path, GOOD)
    page.goto("/batch/new")
    fields = page.locator("#batch-form .field")
    expect(fields.first).to_contain_text("Face set")
    expect(fields.first).to_contain_text("(required)")
    page.set_input_files("#archive", str(archive))
    page.set_input_files("#manifest", str(manifest))
    posts = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.click("#submit")
    expect(page.locator("#faceSetId-error")).to_have_text("Choose the face set to enrol into.")
    expect(page.locator("#faceSetId")).to_be_focused()
    assert posts == [], "nothing is uploaded without a face set"
    pick_face_set(page, face_set)  # the files are still chosen: nothing to choose again
    page.click("#submit")
    expect(page.locator("#review h2")).to_have_text("Checked: 4 rows ready to send")


def test_a_clerk_corrects_three_bad_rows_without_uploading_again(page, sandbox, face_set, tmp_path):  # noqa: F811
    upload_with_mistakes(page, face_set, tmp_path)
    review = page.locator("#review h2")
    expect(review).to_have_text("Checked: 1 row ready to send, 3 with problems")
    shot(page, "batch-review-problems")
    rows = page.locator("#rows-table")
    expect(rows).to_contain_text("Atlantis")
    expect(page.locator("#fix-3 input[name=country]")).to_have_value("Atlantis")
    expect(page.locator("#fix-4 input[name=faceImage]")).to_have_value("staff/four.jpg")
    expect(page.locator("#fix-5 input[name=faceSetId]")).to_have_value("staff-set-typo")
    expect(page.locator("#fix-3 input[name=name]")).to_have_count(0)  # only the cells with a problem

    # A typo in a country: typed again in place, checked again by the upload's checks.
    page.fill("#fix-3 input[name=country]", "Atlantis 2")
    page.click("#fix-3 button")
    expect(page.locator(".flash.error")).to_have_text("Row 3 still has a problem: see below.")
    expect(page.locator("#fix-3 input[name=country]")).to_have_value("Atlantis 2")
    page.fill("#fix-3 input[name=country]", "Indonesia")
    page.click("#fix-3 button")
    expect(page.locator("main")).to_contain_text("Row 3 is ready to send now.")
    expect(review).to_have_text("Checked: 2 rows ready to send, 2 with problems")
    expect(page.locator("#row-3")).to_contain_text("corrected")

    # A file name: the photo it now names was never checked, so it is checked first, then ready.
    page.fill("#fix-4 input[name=faceImage]", "staff/4.jpg")
    page.click("#fix-4 button")
    expect(review).to_have_text("Checked: 3 rows ready to send, 1 with problems", timeout=30_000)
    expect(page.locator("#row-4")).to_contain_text("corrected")
    expect(page.locator("#row-4")).to_contain_text("Citra Dewi")
    expect(page.locator("#row-3")).to_contain_text("corrected")  # the earlier correction is still shown
    expect(page.locator("main")).to_contain_text("Rows 3, 4 are ready to send now.")
    expect(page.locator("#fix-5")).to_be_visible()
    shot(page, "batch-review-after")
    review_url = page.url
    phone = page.context.new_page()  # a phone-width full-page shot breaks the next click of its own tab
    phone.goto(review_url)
    shot(phone, "batch-review-after-390", width=390)
    phone.close()

    # The last one by a corrected manifest for the same ZIP (nothing else uploaded again).
    corrected = tmp_path / "branch-corrected.csv"
    corrected.write_bytes(make_manifest(GOOD))
    page.set_input_files("#corrected-manifest", str(corrected))
    page.click("#replace-manifest")
    expect(review).to_have_text("Checked: 4 rows ready to send")
    expect(page.locator("main")).to_contain_text("Rows 3, 4, 5 are ready to send now.")
    assert sandbox.store.count_faces(face_set) == 0, "nothing is sent before the start"

    page.click("#start")
    expect(page.locator("#count-done")).to_have_text("4", timeout=60_000)
    expect(page.locator("#rate-meaning")).to_contain_text("time the job was really sending")
    assert sandbox.store.count_faces(face_set) == 4
    page.goto(review_url)  # started: no cell can be corrected any more
    expect(page.locator(".row-fix")).to_have_count(0)
    shot(page, "batch-finished-390", width=390)  # phone width: after the last click


def test_a_corrected_manifest_that_is_wrong_says_so_with_its_name(page, face_set, tmp_path):  # noqa: F811
    upload_with_mistakes(page, face_set, tmp_path)
    expect(page.locator("#review h2")).to_contain_text("3 with problems")
    wrong = tmp_path / "fixed.csv"
    wrong.write_bytes(b"picture,who\nstaff/1.jpg,Ana\n")
    page.set_input_files("#corrected-manifest", str(wrong))
    page.click("#replace-manifest")
    expect(page.locator("main")).to_contain_text("fixed.csv: The manifest's first row is not right")
    expect(page.locator("#review h2")).to_contain_text("3 with problems")  # the job is as it was
