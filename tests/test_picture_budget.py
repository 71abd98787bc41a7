"""Pictures cannot swell the portal: decoded pixels are bounded per picture and per process.

Case from the security review: two concurrent searches by a viewer, each a 264 KB 8000 × 7990 RGBA PNG,
took a worker from 250 MB to 2.3 GB and it stayed there. Now both are refused from their header, with
the form kept, and the worker stays small.
"""
import io
import re
import subprocess
import threading
from pathlib import Path

import requests
from PIL import Image

from facesite.pictures import decoding
from tests.support import EnrolPage, face, make_app, sign_in
from tests.support.pictures import encode, giant_png
from tests.test_procfile import hidden, procfile_portal  # noqa: F401  (fixture)


def worker_peak_rss_mb(master_pid: int) -> list[float]:
    """Peak resident memory (VmHWM) of each gunicorn worker of ``master_pid``."""
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    peaks = []
    for pid in children:
        status = Path(f"/proc/{pid}/status")
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes() if status.exists() else b""
        if b"gunicorn" not in cmdline:
            continue  # the embedded sandbox
        match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
        peaks.append(int(match.group(1)) / 1024)
    return peaks


def first_admin(url: str, process) -> requests.Session:
    browser = requests.Session()
    browser.get(url + "/auth/login", timeout=10)
    link = next(line for line in process.log_lines if "/auth/setup/" in line)
    setup_url = url + "/auth/setup/" + link.rsplit("/auth/setup/", 1)[1].strip()
    page = browser.get(setup_url, timeout=10).text
    browser.post(setup_url, timeout=10, data={"csrf_token": hidden(page, "csrf_token"), "username": "root.admin",
                                              "password": "a long passphrase", "confirm": "a long passphrase"})
    return browser


def test_two_giant_png_searches_are_refused_and_the_worker_stays_small(procfile_portal):
    url, process = procfile_portal
    browser = first_admin(url, process)
    bomb = giant_png(8000, 7990)
    assert len(bomb) < 400_000
    answers = []

    def search():
        form = browser.get(url + "/search/", timeout=10).text
        answers.append(browser.post(url + "/search/", timeout=60, data={
            "csrf_token": hidden(form, "csrf_token"), "submissionId": hidden(form, "submissionId"),
            "faceSetId": "demo", "topK": "5", "threshold": "70"},
            files={"faceImage": ("big.png", bomb, "image/png")}))

    threads = [threading.Thread(target=search) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    assert [answer.status_code for answer in answers] == [422, 422]
    for answer in answers:
        assert "more pixels than the portal decodes" in answer.text  # which limit, in words
        assert 'name="threshold"' in answer.text and 'value="70"' in answer.text  # the form is kept
    assert max(worker_peak_rss_mb(process.pid)) < 600


def test_a_48_megapixel_phone_jpeg_is_still_enrolled(client, sandbox, face_set):
    photo = encode(Image.open(io.BytesIO(face("obama.jpg"))).resize((6200, 7747)), "JPEG", quality=60)  # 48 MP
    answer = EnrolPage(client).send(photo, "phone.jpg", faceSetId=face_set, name="Phone")
    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    assert "while decoding" in client.get(answer.location).get_data(as_text=True)


def test_when_the_decode_budget_stays_full_staff_are_asked_to_send_again(sandbox, face_set):
    app = make_app(sandbox.url, PICTURE_DECODE_WAIT_SECONDS=1)
    client = sign_in(app.test_client(), "operator")
    with decoding.reserved(decoding.budget.total):  # other requests hold every pixel
        answer = EnrolPage(client).send(face("32bit.png"), "face.png", faceSetId=face_set, name="Kept name")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "busy decoding other large pictures" in html and "Kept name" in html
