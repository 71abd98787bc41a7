"""In Chromium: staff sign in, enrol and find the call in the audit log; framing is allowed only where configured."""
import pytest
from flask import Flask
from playwright.sync_api import expect

from tests.support import FACES, PASSWORD, browser_sign_in as sign_in, make_app, pick_face_set
from tests.support.servers import ServerThread


def test_sign_in_enrol_and_see_the_call_in_the_audit_log(browser, live_portal, face_set):
    context = browser.new_context(base_url=live_portal.url)
    page = context.new_page()
    page.goto("/enrol/")
    expect(page).to_have_url(f"{live_portal.url}/auth/login?next=/enrol/?")
    sign_in(page, "ada")
    page.goto("/enrol/")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.fill("#idNumber", "3171000011112222")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    transaction = page.locator("#transaction-id").inner_text()
    page.click("text=Audit log")
    row = page.locator("#audit-table tbody tr", has_text=transaction)
    expect(row).to_contain_text("add_face")
    expect(row).to_contain_text("••••2222")
    expect(row).to_contain_text("ada")
    expect(page.locator("figure.chart svg rect.free").first).to_be_visible()
    page.screenshot(path="/tmp/facesite-screenshots/audit.png", full_page=True)
    page.click("text=Sign out")
    expect(page.locator("h1")).to_have_text("Sign in")
    context.close()


def host_page(portal_url: str, port: int = 0) -> ServerThread:
    """Another internal tool that embeds the portal in an iframe."""
    host = Flask("host")

    @host.get("/")
    def embed():
        return f'<h1>Internal tool</h1><iframe id="portal" src="{portal_url}/auth/login" width="900" height="700">'

    return ServerThread(host, port)


@pytest.fixture
def framed_portal(sandbox, monkeypatch):
    """The portal allowing exactly one embedding origin; it is reached as localhost, a different site."""
    from facesite.sandbox.launcher import free_port

    allowed_port = free_port()
    portal = ServerThread(make_app(sandbox.url, {"FRAME_ANCESTORS": f"http://127.0.0.1:{allowed_port}"}))
    portal.url = portal.url.replace("127.0.0.1", "localhost")
    yield portal, allowed_port
    portal.stop()


def sign_in_inside_the_tool(page, allowed_port: int):
    """Open the allowed tool and sign in to the portal inside its iframe; returns the frame."""
    page.goto(f"http://127.0.0.1:{allowed_port}/")
    frame = page.frame_locator("#portal")
    frame.locator("#username").fill("otto")
    frame.locator("#password").fill(PASSWORD)
    frame.locator("#submit").click()
    expect(frame.locator(".account")).to_contain_text("otto")
    return frame


def test_the_portal_works_inside_an_allowed_tool(browser, framed_portal, face_set):
    portal, allowed_port = framed_portal
    host = host_page(portal.url, allowed_port)
    context = browser.new_context()
    page = context.new_page()
    frame = sign_in_inside_the_tool(page, allowed_port)
    frame.locator("a", has_text="Enrol a face").click()
    pick_face_set(frame, face_set)
    frame.locator("#faceImage").set_input_files(str(FACES / "obama2.jpg"))
    frame.locator("#submit").click()
    expect(frame.locator("h1")).to_have_text("Face enrolled")
    page.screenshot(path="/tmp/facesite-screenshots/framed.png")
    context.close()
    host.stop()


def test_a_tool_that_is_not_allowed_cannot_frame_the_portal(browser, framed_portal):
    portal, _ = framed_portal
    host = host_page(portal.url)  # on some other port: not an allowed ancestor
    context = browser.new_context()
    page = context.new_page()
    refusals = []
    page.on("console", lambda message: refusals.append(message.text) if "frame-ancestors" in message.text else None)
    page.goto(host.url + "/")
    expect(page.locator("h1")).to_have_text("Internal tool")
    page.wait_for_timeout(500)
    assert refusals, "Chromium should report the frame-ancestors refusal"
    assert page.frame_locator("#portal").locator("#username").count() == 0
    context.close()
    host.stop()
