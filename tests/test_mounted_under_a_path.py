"""The portal mounted under /faces: behind a proxy that strips the path and says so in X-Forwarded-Prefix,
and under gunicorn with SCRIPT_NAME. Staff click through it in Chromium; every request the browser makes
stays under /faces/, every cookie belongs to /faces, and nothing is sent to the root of the host."""
from __future__ import annotations

import os
import re
import signal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import expect

from facesite.sandbox.launcher import free_port, wait_until_up
from tests.support import FACES, PASSWORD, face, make_app, pick_face_set
from tests.support.batch_files import make_manifest, make_zip, read_csv
from tests.support.mount_proxy import MountingProxy
from tests.support.servers import ServerThread, kill_process, procfile_command, start_process
from tests.test_browser import loaded_width, screenshot

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_AND_SCRIPTS = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "static").glob("*.js")]


class BrowserWatch:
    """Every request a browser tab makes, and every cookie its answers set."""

    def __init__(self, page):
        self.urls: list[str] = []
        self.cookie_lines: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("response", lambda response: self.cookie_lines.extend(
            header["value"] for header in response.headers_array() if header["name"].lower() == "set-cookie"))

    def outside(self, base: str) -> list[str]:
        return [url for url in self.urls if not url.startswith(base) and not url.startswith(("blob:", "data:"))]


@pytest.fixture
def mounted(sandbox):
    """The portal behind the mounting proxy, which it trusts as one hop (TRUSTED_PROXY_HOPS=1)."""
    portal = ServerThread(make_app(sandbox.url, {"TRUSTED_PROXY_HOPS": "1"}))
    proxy = MountingProxy(portal.url)
    yield proxy
    proxy.stop()
    portal.stop()


def sign_in_here(page):
    page.fill("#username", "otto")
    page.fill("#password", PASSWORD)
    page.click("#submit")
    expect(page.locator(".account")).to_contain_text("otto")


def test_staff_work_through_a_proxy_that_mounts_the_portal_under_a_path(browser, mounted, sandbox, face_set,
                                                                        tmp_path):
    base = mounted.url + "/faces/"
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    watch = BrowserWatch(page)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    # A next= outside the mount path is not followed; one inside it is.
    page.goto(base + "auth/login?next=/enrol/")
    sign_in_here(page)
    assert urlsplit(page.url).path.startswith("/faces/")
    page.click("text=Sign out")
    expect(page.locator("h1")).to_have_text("Sign in")
    page.goto(base + "enrol/")
    assert "next=/faces/enrol/" in page.url
    sign_in_here(page)
    assert urlsplit(page.url).path == "/faces/enrol/"

    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama.jpg"))
    page.fill("#name", "Mounted Person")
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Face enrolled")
    assert loaded_width(page.locator("#sent-picture")) > 0

    page.click("nav >> text=Search")
    pick_face_set(page, face_set)
    page.set_input_files("#faceImage", str(FACES / "obama2.jpg"))
    page.click("#submit")
    expect(page.locator("h1")).to_have_text("Search results")
    expect(page.locator("#matches li").first).to_contain_text("Mounted Person")
    assert loaded_width(page.locator("#matches img.thumb").first) > 0

    page.click("nav >> text=Register")
    page.click("#register-table >> text=Mounted Person")
    expect(page.locator("main")).to_contain_text("Mounted Person")
    page.click("nav >> text=Register")
    with page.expect_download() as download:
        page.click("#csv-export")
    assert "Mounted Person" in Path(download.value.path()).read_text()

    archive, manifest = tmp_path / "two.zip", tmp_path / "two.csv"
    archive.write_bytes(make_zip({"a.jpg": face("biden.jpg"), "b.jpg": face("obama2.jpg")}))
    manifest.write_bytes(make_manifest([{"faceImage": "a.jpg", "name": "Batch A"},
                                        {"faceImage": "b.jpg", "name": "Batch B"}]))
    page.click("nav >> text=Batch enrolment")
    page.click("#new-batch")
    page.set_input_files("#archive", str(archive))
    page.set_input_files("#manifest", str(manifest))
    pick_face_set(page, face_set)
    page.click("#submit")
    expect(page.locator("#review h2")).to_contain_text("2 rows ready to send")
    page.click("#start")
    expect(page.locator("#job-state")).to_have_text("finished", timeout=60_000)  # the progress fetch, live
    with page.expect_download() as download:
        page.click("#results-csv")
    assert [row["result"] for row in read_csv(open(download.value.path(), "rb").read())] == ["done", "done"]
    screenshot(page, "mounted-batch-finished")

    page.click("text=Sign out")
    expect(page.locator("h1")).to_have_text("Sign in")
    assert urlsplit(page.url).path == "/faces/auth/login"
    cookies = context.cookies()
    context.close()

    assert watch.outside(base) == [] and mounted.escaped == []
    assert any("/faces/batch/" in url and url.endswith("/progress") for url in watch.urls)  # the script's fetches
    assert watch.cookie_lines and all(re.search(r"Path=/faces(/|;|$)", line) for line in watch.cookie_lines), \
        watch.cookie_lines
    assert cookies and all(cookie["path"].startswith("/faces") for cookie in cookies)
    assert errors == []


def test_templates_and_scripts_name_no_path_of_their_own():
    """Links, form actions, sources and script URLs come from url_for (or data attributes filled by it)."""
    hard_coded = re.compile(r"""(?:href|src|action|data-[a-z-]+)\s*=\s*["']/|fetch\(\s*["'`]/|open\(\s*["'][A-Z]+["']\s*,\s*["'`]/|location(?:\.href)?\s*=\s*["'`]/""")
    found = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in TEMPLATES_AND_SCRIPTS
             for match in hard_coded.finditer(path.read_text())]
    assert TEMPLATES_AND_SCRIPTS and found == []


@pytest.fixture
def gunicorn_under_a_path(tmp_path):
    """The Procfile's web process with SCRIPT_NAME=/faces (gunicorn takes the path off each request)."""
    port = free_port()
    process = start_process(procfile_command("web"), {
        **os.environ, "PORT": str(port), "SCRIPT_NAME": "/faces", "INSTANCE_PATH": str(tmp_path / "instance"),
        "SANDBOX_DB": str(tmp_path / "sandbox.sqlite3"), "WEB_CONCURRENCY": "1"})
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/faces", timeout=60, process=process)
        yield url, process
    finally:
        kill_process(process, signal.SIGTERM)


def test_a_path_outside_the_mount_is_a_plain_404_not_an_empty_500(gunicorn_under_a_path):
    url, _ = gunicorn_under_a_path
    for path in ("/", "/auth/login", "/other/tool", "/favicon.ico"):
        answer = requests.get(url + path, timeout=10, allow_redirects=False)
        assert answer.status_code == 404 and "not part of the portal" in answer.text, path
    assert requests.get(url + "/faces/healthz", timeout=10).status_code == 200


def test_gunicorn_with_script_name_serves_everything_under_that_path(browser, gunicorn_under_a_path):
    url, process = gunicorn_under_a_path
    links = [line for line in process.log_lines if "/auth/setup/" in line]
    assert len(links) == 1 and f"{url}/faces/auth/setup/" in links[0], process.log_lines
    setup_link = links[0][links[0].index(url):].strip()
    context = browser.new_context()
    page = context.new_page()
    watch = BrowserWatch(page)
    page.goto(setup_link)
    page.fill("#username", "first.admin")
    page.fill("#password", "a long passphrase")
    page.fill("#confirm", "a long passphrase")
    page.click("#submit")
    expect(page.locator(".account")).to_contain_text("first.admin")
    for section in ("Register", "Users", "Audit log", "Search"):
        page.click(f"nav >> text={section}")
        expect(page.locator("h1")).to_be_visible()
    page.click("text=Sign out")
    expect(page.locator("h1")).to_have_text("Sign in")
    cookies = context.cookies()
    context.close()
    assert watch.outside(url + "/faces/") == []
    assert cookies and all(cookie["path"].startswith("/faces") for cookie in cookies)
