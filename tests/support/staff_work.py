"""Things staff make through the portal's own pages (a search, an enrolment, a batch job), for tests of
who may see them afterwards. Each helper returns the ids a URL names."""
from __future__ import annotations

import re

from facesite.extensions import db
from facesite.models import BatchRow, User
from tests.support import EnrolPage, face, password_hash, sign_in
from tests.support.batch_files import make_manifest, make_zip
from tests.test_batch import BatchPage
from tests.test_search import SearchPage

PICTURE = re.compile(r'src="/picture/([A-Za-z0-9_-]+)"')


def add_staff(app, username: str, role: str) -> None:
    """One more account (beside conftest's one per role), with the tests' password."""
    with app.app_context():
        db.session.add(User(username=username, role=role, password_hash=password_hash()))
        db.session.commit()


def signed_in(app, role: str, username: str | None = None):
    return sign_in(app.test_client(), role, username)


def csrf_token(client) -> str:
    """The session's CSRF token, from the sign-in page (shown to everyone, signed in or not)."""
    return EnrolPage.hidden(client.get("/auth/login", follow_redirects=True).get_data(as_text=True), "csrf_token")


def _outcome(client, answer, prefix: str) -> tuple[str, str]:
    """(submission id, kept picture id) of a form sent and redirected to its result page."""
    assert answer.status_code == 303, answer.get_data(as_text=True)
    location = answer.headers["Location"]
    assert location.startswith(prefix), location
    page = client.get(location).get_data(as_text=True)
    return location.rsplit("/", 1)[1], PICTURE.search(page).group(1)


def search(client, face_set: str, photo: str = "obama2.jpg") -> tuple[str, str]:
    """A search by this client: (its submission id, the kept picture's id)."""
    return _outcome(client, SearchPage(client).send(face(photo), faceSetId=face_set), "/search/results/")


def enrol(client, face_set: str, photo: str = "obama.jpg", **details) -> tuple[str, str]:
    """An enrolment by this client: (its submission id, the kept picture's id)."""
    return _outcome(client, EnrolPage(client).send(face(photo), faceSetId=face_set, **details), "/enrol/done/")


def batch_job(client, face_set: str, people: int = 1) -> int:
    """A batch job uploaded by this client and checked (waiting for review)."""
    files = {f"p{i}.jpg": face("biden.jpg") for i in range(people)}
    rows = [{"faceImage": name, "name": f"Batch person {name}"} for name in files]
    page = BatchPage(client)
    return page.job_id(page.upload(make_zip(files), make_manifest(rows), face_set))


def first_row(app, job_id: int) -> int:
    with app.app_context():
        return db.session.scalar(db.select(BatchRow.id).where(BatchRow.job_id == job_id).order_by(BatchRow.id))

