"""In Chromium: the face-set picker (labels, a remembered choice, the register filter) and a camera that
fails (issue 18, items 6 and 11)."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.support import FACES, browser_sign_in as sign_in, make_app
from tests.support.servers import ServerThread

SHOTS = Path("/work/shots/picker")
LABEL = "Jakarta office staff"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def label_face_set(app, face_set: str) -> None:
    """Gives the test's face set a label staff would give it."""
    from facesite.extensions import db
    from facesite.models import FaceSet

    with app.app_context():
        db.session.get(FaceSet, face_set).label = LABEL
        db.session.commit()


def tab(browser, portal_url: str, username="otto", viewport=DESKTOP, **options):
    context = browser.new_context(base_url=portal_url, viewport=viewport, **options)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    sign_in(page, username)
    return page


def enrol(page, face_set_choice, picture="obama.jpg", name="Ann Lee"):
    page.set_input_files("#faceImage", str(FACES / picture))
    page.fill("#name", name)
    face_set_choice()
    page.click("#submit")
    page.wait_for_url("**/enrol/done/**")


def test_the_drop_down_shows_labels_remembers_each_persons_choice_and_the_register_filters_by_label(
        browser, app, live_portal, sandbox, face_set):
    label_face_set(app, face_set)
    page = tab(browser, live_portal.url)
    page.goto("/enrol/")
    picker = page.locator("select#faceSetId")
    expect(picker).to_be_visible()
    expect(picker).to_have_value("")  # several face sets and no choice yet: nothing is picked for the clerk
    shown = picker.locator("option").all_inner_texts()
    assert shown[0] == "Choose a face set…"
    assert f"{LABEL} ({face_set})" in shown and "Catalogue demo (demo)" not in shown
    assert "Catalogue branch-1 (branch-1)" in shown  # the label first, the id after it
    shot(page, "enrol-drop-down-1280")
    enrol(page, lambda: picker.select_option(label=f"{LABEL} ({face_set})"))
    assert sandbox.store.count_faces(face_set) == 1

    # The next visit to any form starts with it, for this person only.
    for form in ("/enrol/", "/search/", "/batch/new"):
        page.goto(form)
        expect(page.locator("#faceSetId")).to_have_value(face_set)
        expect(page.locator("#faceSetId option:checked")).to_have_text(f"{LABEL} ({face_set})")
    other = tab(browser, live_portal.url, "vera")
    other.goto("/search/")
    expect(other.locator("#faceSetId")).to_have_value("")
    other.context.close()

    # The register: picked by label from its own drop-down, or a label typed into the address.
    page.goto("/enrol/")
    enrol(page, lambda: page.locator("#faceSetId").select_option("demo"), picture="biden.jpg", name="Ben Demo")
    page.goto("/register/")
    expect(page.locator("#register-table tbody tr")).to_have_count(2)
    expect(page.locator("#face_set option").first).to_have_text("All face sets")
    page.locator("#face_set").select_option(label=f"{LABEL} ({face_set})")
    page.click("form.filters button[type=submit]")
    rows = page.locator("#register-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Ann Lee")
    expect(page.locator("#face_set")).to_have_value(face_set)
    shot(page, "register-filter-1280")
    page.goto(f"/register/?face_set={LABEL.lower().replace(' ', '+')}")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Ann Lee")
    expect(page.locator("#face_set option:checked")).to_have_text(f"{LABEL} ({face_set})")
    assert page.errors == []

    phone = tab(browser, live_portal.url, viewport=PHONE)
    phone.goto("/enrol/")
    expect(phone.locator("#faceSetId")).to_have_value("demo")  # the last one chosen
    shot(phone, "enrol-drop-down-390")
    phone.goto(f"/register/?face_set={face_set}")
    shot(phone, "register-filter-390")
    phone.context.close()
    page.context.close()


@pytest.fixture
def long_catalogue(sandbox):
    """A portal whose catalogue is longer than FACE_SET_LIST_MAX: its pickers are type-ahead boxes."""
    server = ServerThread(make_app(sandbox.url, {"FACE_SET_LIST_MAX": "3"}))
    yield server
    server.stop()


def test_a_long_catalogue_is_a_type_ahead_of_labels_that_still_refuses_a_face_set_outside_it(
        browser, long_catalogue, sandbox, face_set):
    label_face_set(long_catalogue.app, face_set)
    page = tab(browser, long_catalogue.url)
    page.goto("/enrol/")
    box = page.locator("input#faceSetId")
    expect(box).to_have_attribute("list", "faceSetId-list")
    suggestions = page.locator("#faceSetId-list option")
    assert LABEL in [suggestions.nth(i).get_attribute("value") for i in range(suggestions.count())]
    expect(page.locator("#faceSetId-hint")).to_contain_text("type to search by label or id")

    # Typed, not in the catalogue: the clear refusal, what was typed kept.
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    box.fill("not-in-the-catalogue")
    page.click("#submit")
    expect(page.locator("#faceSetId-error")).to_have_text(
        "FaceSet not found, id: not-in-the-catalogue. It is not in the portal's catalogue of face sets: pick one "
        "from the list, or ask an administrator to add it.")
    expect(box).to_have_value("not-in-the-catalogue")
    shot(page, "enrol-type-ahead-error-1280")

    box.fill(LABEL.upper())  # a label, as typed
    page.click("#submit")
    page.wait_for_url("**/enrol/done/**")
    assert sandbox.store.count_faces(face_set) == 1
    page.goto("/search/")
    expect(page.locator("#faceSetId")).to_have_value(LABEL)  # remembered, and shown by its label
    page.goto(f"/register/?face_set={LABEL.replace(' ', '+')}")
    expect(page.locator("input#face_set")).to_have_value(LABEL)
    expect(page.locator("#register-table tbody tr")).to_have_count(1)
    assert page.errors == []
    page.context.close()
    phone = tab(browser, long_catalogue.url, viewport=PHONE)
    phone.goto("/batch/new")
    expect(phone.locator("#faceSetId")).to_have_value(LABEL)
    shot(phone, "batch-type-ahead-390")
    phone.context.close()


def camera_failing(browser, portal, error: str, **options):
    """A signed-in tab whose browser refuses the camera the way browsers do: a DOMException named ``error``."""
    page = tab(browser, portal.url, **options)
    page.add_init_script(script="navigator.mediaDevices.getUserMedia = () => "
                                f"Promise.reject(new DOMException('refused in the test', '{error}'));")
    return page


@pytest.mark.parametrize(("error", "words", "again"), [
    ("NotFoundError", "No camera was found on this device. Choose a file instead.", False),
    ("NotAllowedError", "Camera permission was denied — allow it in the browser's site settings", True),
    ("NotReadableError", "The camera is in use by another program.", True),
    ("SomethingNewError", "The camera could not be opened (SomethingNewError). Choose a file instead.", True),
])
def test_a_camera_that_fails_is_explained_its_controls_hidden_and_the_file_field_still_works(
        browser, live_portal, error, words, again):
    page = camera_failing(browser, live_portal, error)
    page.goto("/enrol/")
    page.click("#camera-open")
    expect(page.locator("#camera-error")).to_contain_text(words)
    expect(page.locator("#camera-error")).to_be_visible()
    expect(page.locator("#camera")).to_be_hidden()  # no black box with the oval
    expect(page.locator("#camera-video")).to_be_hidden()
    expect(page.locator("#camera-take")).to_be_disabled()
    if again:  # permission given or the other program closed, "Use camera" works again
        expect(page.locator("#camera-open")).to_be_visible()
    else:
        expect(page.locator("#camera-open")).to_be_hidden()
    if error == "NotAllowedError":
        shot(page, "camera-denied-1280")
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    expect(page.locator("#picture-preview-caption")).to_contain_text("obama.jpg")
    assert page.errors == []
    page.context.close()


def test_camera_words_come_in_the_clerks_language(browser, app, live_portal):
    from facesite.extensions import db
    from facesite.models import User

    with app.app_context():
        db.session.scalar(db.select(User).where(User.username == "otto")).locale = "th"
        db.session.commit()
    page = camera_failing(browser, live_portal, "NotAllowedError", viewport=PHONE)
    page.goto("/search/")
    page.click("#camera-open")
    expect(page.locator("#camera-error")).to_have_text(
        "ไม่ได้รับอนุญาตให้ใช้กล้อง — อนุญาตในการตั้งค่าเว็บไซต์ของเบราว์เซอร์ แล้วกด “ใช้กล้อง” อีกครั้ง หรือเลือกไฟล์แทน")
    expect(page.locator("#camera")).to_be_hidden()
    shot(page, "camera-denied-th-390")
    page.context.close()
