"""Issue 18, item 5: every result says what can be done next. In a real browser: from an enrolment to its
register entry and a search with the same face (nothing uploaded again); from a search with no match to
enrolling that person (the picture carried over); from a match to its register entry and a large side by
side comparison; from a register entry to a search with its face. And item 5's rate, in the database."""
from __future__ import annotations

from playwright.sync_api import expect

from facesite.batch import jobs, lifecycle
from facesite.batch.lease import LeaseOwner
from facesite.batch.states import JobState, RowState
from facesite.extensions import db
from facesite.models import BatchJob, epoch, utcnow
from tests.support import FACES, pick_face_set, sign_in
from tests.support.staff_work import search
from tests.test_browser import loaded_width, page  # noqa: F401  (the signed-in tab fixture)
from tests.test_browser_batch_fix import shot


def test_enrol_then_open_the_entry_search_with_the_face_and_compare(page, sandbox, face_set):  # noqa: F811
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.fill("#name", "Barack Obama")
    page.click("#submit")
    expect(page.locator("#next-steps a")).to_have_text(["Open the register entry", "Search with this face",
                                                          "Enrol another face"])
    result_url = page.url
    shot(page, "enrol-result-after")

    page.click("#open-register")
    expect(page.locator("h1")).to_have_text("Barack Obama")
    expect(page.locator("#entry-actions")).to_contain_text("Search with this face")
    expect(page.locator("#enrol-again")).to_be_visible()  # an operator may enrol
    expect(page.locator("#audit-face-set")).to_have_count(0)  # the audit trail is for administrators
    shot(page, "register-entry-after")

    page.goto(result_url)
    uploads = []
    page.on("request", lambda request: uploads.append(request.url)
            if request.method == "POST" and b"filename=\"" in (request.post_data_buffer or b"")
            and b"Content-Type: image/" in (request.post_data_buffer or b"") else None)
    page.click("#search-with-face")
    expect(page.locator("#picture-preview")).to_be_visible()  # the enrolment's picture, kept server-side
    expect(page.locator("#faceSetId")).to_have_value(face_set)
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Search results")
    assert uploads == [], "the picture was not uploaded again"
    match = page.locator("#matches .match").first
    expect(match).to_contain_text("Barack Obama")
    expect(match.locator(".register-link")).to_contain_text("In the register")
    compare = page.locator("#compare-1")
    compare.locator("summary").click()
    pictures = compare.locator("img")
    expect(pictures).to_have_count(2)
    assert loaded_width(pictures.nth(0)) >= 256 and loaded_width(pictures.nth(1)) > 0
    assert pictures.nth(1).bounding_box()["width"] >= 150  # large, not the list's small thumbnail
    expect(compare).to_contain_text("Score:")
    shot(page, "search-results-after")
    results_url = page.url

    match.locator(".register-link").click()
    expect(page.locator("h1")).to_have_text("Barack Obama")
    page.click("#search-with-face")  # the register's thumbnail, enlarged, kept as this clerk's picture
    expect(page.locator(".flash.info")).to_contain_text("enlarged")
    expect(page.locator("#picture-preview")).to_be_visible()
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Search results")
    expect(page.locator("#summary")).to_be_visible()
    page.goto(results_url)
    shot(page, "search-results-after-390", width=390)  # phone width: after the last click


def test_a_search_with_no_match_offers_to_enrol_that_person(page, sandbox, face_set):  # noqa: F811
    page.goto("/search/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "biden.jpg"))
    page.click("#submit")
    expect(page.locator("#no-match")).to_be_visible()
    page.click("#enrol-this-person")
    expect(page.locator("h1")).to_contain_text("Enrol")
    expect(page.locator("#picture-preview")).to_be_visible()  # carried over from the search
    expect(page.locator("#faceSetId")).to_have_value(face_set)
    page.fill("#name", "Joe Biden")
    page.click("#submit")
    expect(page.locator("#face-id")).to_be_visible()
    assert sandbox.store.count_faces(face_set) == 1


def test_a_viewer_is_not_offered_to_enrol(app, face_set):
    viewer = sign_in(app.test_client(), "viewer")
    submission, _picture = search(viewer, face_set, "biden.jpg")
    page = viewer.get(f"/search/results/{submission}").get_data(as_text=True)
    assert 'id="no-match"' in page and "enrol-this-person" not in page


def test_the_rate_counts_only_the_time_the_job_was_really_sending(app):
    """The issue's "0.2 rows/s": 20 rows sent in 10 s, then retried a day later, read as 20 rows over a day."""
    now = utcnow()
    with app.app_context():
        job = BatchJob(created_by="otto", archive_name="a.zip", state=JobState.QUEUED,
                       started_at=now.replace(year=now.year - 1))
        db.session.add(job)
        db.session.commit()
        owner = LeaseOwner.here()
        assert lifecycle.take_over(job.id, owner, 30)
        db.session.refresh(job)
        assert job.state == JobState.RUNNING and abs(job.run_started - epoch(now)) < 5
        job.run_started -= 10  # as if it had been sending for 10 s
        db.session.commit()
        lifecycle.hand_back(job.id, owner)
        db.session.refresh(job)
        assert job.run_started is None and 10 <= job.run_seconds < 15
        job.state, job.finished_at = JobState.FINISHED, now
        n = {state: 0 for state in RowState} | {RowState.DONE: 20}
        assert 1.3 < jobs.figures(job, n, 0, now)["rate_per_second"] <= 2.0  # not 20 rows in a year
        # Running again (a retry): over the last minute of this run only, not since the first start.
        job.state, job.run_started = JobState.RUNNING, epoch(now) - 4
        assert jobs.live_window(job, now) == 4
        assert jobs.figures(job, n, 2, now)["rate_per_second"] == 0.5
    page_text = sign_in(app.test_client()).get(f"/batch/{job.id}").get_data(as_text=True)
    assert "time the job was really sending" in page_text
