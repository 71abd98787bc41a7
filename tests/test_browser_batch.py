"""Batch enrolment in a real browser: upload, watch the bar fill, download the results."""
import re
import time

import pytest
from playwright.sync_api import expect

from tests.support import face, make_app, pick_face_set
from tests.support.batch_files import make_manifest, make_zip, read_csv
from tests.support.servers import ServerThread, SlowUpstream
from tests.test_browser import page, screenshot  # noqa: F401  (the signed-in tab fixture)

ROWS = 12


@pytest.fixture
def app(sandbox):
    """The portal against a sandbox that takes a while per face, so the bar has time to move."""
    upstream = ServerThread(SlowUpstream(sandbox.app, 0.3))
    yield make_app(upstream.url, BATCH_CONCURRENCY=2)
    upstream.stop()


def test_upload_watch_the_bar_reach_100_and_download_the_results(page, sandbox, face_set, tmp_path):  # noqa: F811
    archive = tmp_path / "branch.zip"
    archive.write_bytes(make_zip({f"staff/{i}.jpg": face(("obama.jpg", "biden.jpg")[i % 2]) for i in range(ROWS)}
                                 | {"staff/broken.jpg": face("obama.jpg")[:5000]}))
    manifest = tmp_path / "branch.csv"
    rows = [{"faceImage": f"staff/{i}.jpg", "name": f"Staff {i}", "country": "Singapore"} for i in range(ROWS)]
    manifest.write_bytes(make_manifest(rows + [{"faceImage": "staff/broken.jpg", "name": "Broken"}]))

    page.goto("/batch/")
    page.click("#new-batch")
    page.set_input_files("#archive", str(archive))
    page.set_input_files("#manifest", str(manifest))
    pick_face_set(page, face_set)
    screenshot(page, "batch-upload")
    page.click("#submit")
    expect(page.locator("#review h2")).to_have_text(f"Checked: {ROWS} rows ready to send, 1 with problems")
    expect(page.locator("#rows-table")).to_contain_text("File should be an image file")
    screenshot(page, "batch-review")
    assert sandbox.store.count_faces(face_set) == 0

    page.click("#start")
    bar = page.locator("#job-bar")
    seen = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        value = float(bar.get_attribute("value") or 0) if bar.count() else 0.0
        seen.add(value)
        if 30 <= value < 100 and "batch-running" not in seen:
            screenshot(page, "batch-running")
            seen.add("batch-running")
        if page.locator("#job-state").inner_text() == "finished":
            seen.add(float(bar.get_attribute("value")))
            break
        time.sleep(0.1)
    values = sorted(v for v in seen if isinstance(v, float))
    assert values[-1] == 100.0 and any(0 < v < 100 for v in values), values  # it moved, without a reload
    expect(page.locator("#count-done")).to_have_text(str(ROWS))
    expect(page.locator("#count-skipped")).to_have_text("1")
    screenshot(page, "batch-finished")

    with page.expect_download() as download:
        page.click("#results-csv")
    results = read_csv(open(download.value.path(), "rb").read())
    assert [r["result"] for r in results] == ["done"] * ROWS + ["skipped"]
    assert [r["name"] for r in results] == [f"Staff {i}" for i in range(ROWS)] + ["Broken"]
    assert all(r["country"] == "SG" and r["faceId"] for r in results[:ROWS])

    page.goto("/batch/")
    expect(page.locator("#jobs-table")).to_contain_text("branch.zip")
    expect(page.locator("#jobs-table")).to_contain_text("finished")
    screenshot(page, "batch-list")


def test_an_upload_that_cannot_be_used_says_why_and_keeps_the_face_set(page, face_set, tmp_path):  # noqa: F811
    not_a_zip = tmp_path / "photos.zip"
    not_a_zip.write_bytes(b"these are not photos")
    page.goto("/batch/new")
    page.set_input_files("#archive", str(not_a_zip))
    pick_face_set(page, face_set)
    page.click("#submit")
    expect(page.locator("#upload-problem")).to_contain_text("The archive is not a ZIP file")
    expect(page.locator("#faceSetId")).to_have_value(face_set)
    # The page shown is a working form again (its script runs): a good upload now goes through.
    good = tmp_path / "good.zip"
    good.write_bytes(make_zip({"Ann Lee.jpg": face("obama.jpg")}))
    page.set_input_files("#archive", str(good))
    page.click("#submit")
    expect(page.locator("#review h2")).to_have_text("Checked: 1 row ready to send")
    assert re.search(r"/batch/\d+$", page.url), page.url  # the address is the job's, as after a plain POST
