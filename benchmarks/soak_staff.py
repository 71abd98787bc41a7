"""The clients of benchmarks/soak.py: staff doing what staff do, and now and then what an attacker
with a staff account does. Every request's kind, status and time is kept in ``Figures``."""
from __future__ import annotations

import io
import random
import re
import threading
import time
from pathlib import Path

import requests
from PIL import Image

from tests.support.fuzz_archives import make_zip, manifest, zip_bomb
from tests.support.pictures import png_claiming_size

FACES = Path(__file__).resolve().parents[1] / "tests" / "data" / "faces"
PASSWORD = "soak-password-1"
ROLES = ("viewer", "operator", "admin")


def username(role: str, client: int) -> str:
    """Each client thread is its own three members of staff (one a role), as in an office."""
    return f"soak-{role}-{client}"


def hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" type="hidden" value="([^"]*)"', html)
    return found.group(1) if found else ""


class Figures:
    """Every call's kind, final status (0: no answer) and time, from all client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.records: list[tuple[str, int, float]] = []  # one per call (a redirect followed is part of it)
        self.requests = 0  # HTTP requests, redirects followed included
        self.errors: list[str] = []

    def add(self, kind: str, status: int, seconds: float, what: str, hops: int = 1) -> None:
        with self.lock:
            self.records.append((kind, status, seconds))
            self.requests += hops
            if (status >= 500 or status == 0) and len(self.errors) < 10:
                self.errors.append(f"{kind}: {status} {what}")


def pictures() -> dict[str, bytes]:
    """What staff and attackers upload: real photos, and pictures that cost the portal a lot to refuse."""
    out = io.BytesIO()
    Image.new("RGBA", (8000, 7990), (40, 80, 120, 255)).save(out, "PNG")  # small file, 255 MB decoded
    return {"face": (FACES / "obama.jpg").read_bytes(), "other face": (FACES / "biden.jpg").read_bytes(),
            "third face": (FACES / "obama2.jpg").read_bytes(), "giant png": out.getvalue(),
            "claims giant": png_claiming_size(65500, 65500)}


class Staff(threading.Thread):
    """One client: signed in once per role, then a random mix of what staff do, until the deadline."""

    def __init__(self, portal: str, figures: Figures, pictures: dict, client: int, hostile: float, deadline: float,
                 seed: int = 1):
        super().__init__(daemon=True)
        self.portal, self.figures, self.pictures, self.hostile = portal, figures, pictures, hostile
        self.client, self.random, self.deadline = client, random.Random(seed + client), deadline
        self.sessions = {role: requests.Session() for role in ROLES}
        self.batches: list[int] = []

    def call(self, kind: str, role: str, method: str, path: str, **options) -> requests.Response | None:
        started = time.monotonic()
        try:
            answer = self.sessions[role].request(method, self.portal + path, timeout=120, **options)
        except requests.RequestException as error:
            self.figures.add(kind, 0, time.monotonic() - started, f"{method} {path[:80]}: {error}")
            return None
        self.figures.add(kind, answer.status_code, time.monotonic() - started, f"{method} {path[:80]}",
                         hops=1 + len(answer.history))
        return answer

    def sign_in(self) -> bool:
        for role in ROLES:
            page = self.call("sign in", role, "GET", "/auth/login")
            answer = self.call("sign in", role, "POST", "/auth/login", data={
                "csrf_token": hidden(page.text, "csrf_token") if page is not None else "",
                "username": username(role, self.client), "password": PASSWORD})
            if answer is None or "/auth/login" in answer.url:  # every later figure would be the sign-in page's
                self.figures.add("sign in", 0, 0.0, f"client {self.client} could not sign in as {role}")
                return False
        return True

    def form(self, kind: str, role: str, path: str, data: dict, files: dict) -> requests.Response | None:
        page = self.call(kind, role, "GET", path)
        if page is None:
            return None
        fields = {name: hidden(page.text, name) for name in ("csrf_token", "submissionId")}
        return self.call(kind, role, "POST", path, data={**fields, **data}, files=files)

    # What staff do ---------------------------------------------------------------------------------------------

    def enrol(self):
        picture = self.pictures[self.random.choice(["face", "other face", "third face"])]
        self.form("enrol", "operator", "/enrol/", {"faceSetId": "demo", "name": "Soak Person", "country": "ID",
                                                   "idNumber": f"{self.random.randrange(10 ** 15):016}"},
                  {"faceImage": ("face.jpg", picture, "image/jpeg")})

    def search(self):
        self.form("search", self.random.choice(["viewer", "admin"]), "/search/", {"faceSetId": "demo", "topK": "5"},
                  {"faceImage": ("face.jpg", self.pictures["face"], "image/jpeg")})

    def browse(self):
        role, path = self.random.choice([("viewer", "/register/"), ("operator", "/register/?page=2"),
                                         ("viewer", "/register/?name=Soak"), ("operator", "/batch/"),
                                         ("admin", "/admin/audit"), ("admin", "/admin/audit?outcome=success")])
        self.call("browse", role, "GET", path)

    def batch(self):
        members = {f"p{i}.jpg": self.pictures[name] for i, name in enumerate(["face", "other face", "third face"])}
        rows = [["demo", name, "", "", "", "ID", f"Batch {name}"] for name in members]
        answer = self.form("batch", "operator", "/batch/new", {"faceSetId": "demo"},
                           {"archive": ("photos.zip", make_zip(members), "application/zip"),
                            "manifest": ("manifest.csv", manifest(rows).encode(), "text/csv")})
        found = re.search(r"/batch/(\d+)", answer.url) if answer is not None else None
        if found:
            self.batches.append(int(found.group(1)))
            page = self.call("batch", "operator", "GET", f"/batch/{found.group(1)}")
            token = hidden(page.text, "csrf_token") if page is not None else ""
            self.call("batch", "operator", "POST", f"/batch/{found.group(1)}/start", data={"csrf_token": token})

    def export(self):
        choices = [("operator", "/register/export.csv"), ("admin", "/admin/audit.csv")]
        choices += [("operator", f"/batch/{job}/results.csv") for job in self.batches[-3:]]
        role, path = self.random.choice(choices)
        self.call("export", role, "GET", path)

    # What an attacker with a staff account does -------------------------------------------------------------------

    def attack(self):
        kind = self.random.choice(["giant png", "claims giant", "shared member", "bad multipart", "odd query"])
        if kind in ("giant png", "claims giant"):
            self.form("hostile", "viewer", "/search/", {"faceSetId": "demo"},
                      {"faceImage": ("face.png", self.pictures[kind], "image/png")})
        elif kind == "shared member":
            archive, rows = zip_bomb(1, 20)
            self.form("hostile", "operator", "/batch/new", {"faceSetId": "demo"},
                      {"archive": ("shared.zip", archive, "application/zip"),
                       "manifest": ("manifest.csv", rows.encode(), "text/csv")})
        elif kind == "bad multipart":
            body = b"--x\r\nContent-Disposition: form-data; name=\"faceImage\"; filename=\"a.jpg\"\r\n\r\n" + \
                self.pictures["face"][:5000]
            self.call("hostile", "operator", "POST", "/enrol/", data=body,
                      headers={"Content-Type": "multipart/form-data; boundary=x"})
        else:
            query = self.random.choice(["endpoint=x", "_anchor=x&_external=1", "page=-1", "page=" + "9" * 30,
                                        "next=/%0d%0aSet-Cookie:%20x=1", "since=9999-12-31&until=9999-12-31"])
            self.call("hostile", self.random.choice(["viewer", "admin"]), "GET",
                      self.random.choice(["/register/", "/admin/audit", "/batch/", "/auth/login"]) + "?" + query)

    def run(self):
        if not self.sign_in():
            return
        actions = [self.enrol] * 20 + [self.search] * 25 + [self.browse] * 35 + [self.batch] * 5 + [self.export] * 15
        while time.monotonic() < self.deadline:
            (self.attack if self.random.random() < self.hostile else self.random.choice(actions))()
