"""Where a kept picture lives (issue 14): with SQLite, a file beside the database, so that a search's
1.3 MB picture does not go through the single-writer database; with PostgreSQL, in the database, which
every machine reads. Either way the owner alone reads it, and it goes with the daily purge."""
from __future__ import annotations

import io
import os
import re
from datetime import timedelta

import pytest
from PIL import Image

from facesite.extensions import db
from facesite.models import Draft, utcnow
from tests.support import face, make_app, sign_in
from tests.test_search import SearchPage


def same_picture(kept: bytes, sent: bytes) -> bool:
    """The picture that was sent at its full size, not a preview (preparation only removes metadata)."""
    return Image.open(io.BytesIO(kept)).size == Image.open(io.BytesIO(sent)).size and len(kept) > len(sent) // 2


def search_and_open_again(client, face_set) -> tuple[str, bytes]:
    """A search, then its "Search again with this picture" form: (the kept picture's id, the bytes the
    form would send again)."""
    answer = SearchPage(client).send(face("obama.jpg"), faceSetId=face_set)
    assert answer.status_code == 303
    body = client.get(answer.headers["Location"]).get_data(as_text=True)
    again = re.search(r'id="search-again"\s+href="([^"]+)"', body).group(1).replace("&amp;", "&")
    kept_id = SearchPage.hidden(client.get(again).get_data(as_text=True), "keptPicture")
    assert kept_id
    return kept_id, client.get(f"/picture/{kept_id}").data


def test_on_sqlite_a_searched_picture_is_a_private_file_not_a_database_blob(app, client, face_set):
    kept_id, served = search_and_open_again(client, face_set)
    assert same_picture(served, face("obama.jpg"))  # the picture itself (metadata removed), to search again with
    path = os.path.join(app.instance_path, "kept-pictures", kept_id)
    assert open(path, "rb").read() == served
    assert os.stat(path).st_mode & 0o077 == 0  # readable by the portal's own user only
    with app.app_context():
        assert db.session.scalar(db.select(Draft.data).where(Draft.key == f"picture:{kept_id}")) is None
    other = sign_in(app.test_client(), "viewer")
    assert other.get(f"/picture/{kept_id}").status_code == 404  # still its owner's alone

    from facesite import retention
    with app.app_context():
        assert retention.purge(now=utcnow() + timedelta(hours=1))["drafts"] == 0
        os.utime(path, (0, 0))  # as if written long ago: the purge goes by the file's own time too
        assert retention.purge(now=utcnow() + timedelta(days=2))["drafts"] >= 1
    assert not os.path.exists(path)
    assert client.get(f"/picture/{kept_id}").status_code == 404


def test_on_postgresql_a_searched_picture_stays_in_the_database(sandbox, face_set, postgres_url, tmp_path):
    app = make_app(sandbox.url, {"DATABASE_URL": postgres_url})
    client = sign_in(app.test_client(), "operator")
    kept_id, served = search_and_open_again(client, face_set)
    assert same_picture(served, face("obama.jpg"))
    assert not os.path.exists(os.path.join(app.instance_path, "kept-pictures"))
    with app.app_context():
        assert db.session.scalar(db.select(Draft.data).where(Draft.key == f"picture:{kept_id}")) == served


@pytest.mark.parametrize("removed", ["row", "file"])
def test_a_kept_picture_half_gone_reads_as_gone(app, client, face_set, removed):
    """A purge between the row and the file, or a file lost with a disk: the form says the picture is
    gone (choose it again) rather than failing."""
    kept_id, _ = search_and_open_again(client, face_set)
    with app.app_context():
        if removed == "row":
            db.session.execute(db.delete(Draft).where(Draft.key == f"picture:{kept_id}"))
            db.session.commit()
        else:
            os.unlink(os.path.join(app.instance_path, "kept-pictures", kept_id))
    assert client.get(f"/picture/{kept_id}").status_code == 404
    form = client.get(f"/search/?picture={kept_id}").get_data(as_text=True)
    answer = SearchPage(client).send(None, html=form, faceSetId=face_set)
    assert answer.status_code == 422 and "attach it again" in answer.get_data(as_text=True)


def test_searching_with_a_register_entrys_face_again_and_again_keeps_one_copy_and_is_limited(sandbox, face_set):
    """Issue 24, finding 3: each press of "Search with this face" kept a new picture for a day (40 presses in a
    third of a second, 40 files), with no limit: a viewer could fill the disk."""
    from facesite.models import Enrolment
    from tests.support import EnrolPage

    app = make_app(sandbox.url, RATE_LIMIT_SEARCH="12 per minute")
    operator = sign_in(app.test_client(), "operator")
    assert EnrolPage(operator).send(face("obama.jpg"), faceSetId=face_set, name="Barack").status_code == 303
    with app.app_context():
        entry_id = db.session.scalar(db.select(Enrolment.id).filter_by(face_set_id=face_set))
    viewer, other = sign_in(app.test_client(), "viewer"), sign_in(app.test_client(), "admin")
    folder = os.path.join(app.instance_path, "kept-pictures")
    before = set(os.listdir(folder)) if os.path.isdir(folder) else set()

    def press(client):
        page = client.get(f"/register/{entry_id}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return client.post(f"/register/{entry_id}/search", data={"csrf_token": token})

    answers = [press(viewer) for _ in range(10)]
    assert {a.status_code for a in answers} == {303}
    attached = {re.search(r"picture=([A-Za-z0-9_-]+)", a.headers["Location"]).group(1) for a in answers}
    assert len(attached) == 1 and viewer.get(f"/picture/{attached.pop()}").status_code == 200
    assert press(other).status_code == 303  # someone else gets a copy of their own
    assert len(set(os.listdir(folder)) - before) == 2
    assert [press(viewer).status_code for _ in range(3)][-1] == 429  # past RATE_LIMIT_SEARCH: a page, not a file


def test_register_thumbnails_cannot_be_copied_in_bulk(sandbox, face_set):
    """Issue 24, finding 14: any viewer fetched every thumbnail, ids in sequence, with no limit."""
    from facesite.models import Enrolment
    from tests.support import EnrolPage

    app = make_app(sandbox.url, RATE_LIMIT_THUMBNAILS="4 per minute")
    operator = sign_in(app.test_client(), "operator")
    assert EnrolPage(operator).send(face("obama.jpg"), faceSetId=face_set).status_code == 303
    with app.app_context():
        entry_id = db.session.scalar(db.select(Enrolment.id).filter_by(face_set_id=face_set))
    viewer = sign_in(app.test_client(), "viewer")
    codes = [viewer.get(f"/register/{entry_id}/thumbnail.jpg").status_code for _ in range(6)]
    assert codes[:4] == [200] * 4 and codes[4:] == [429, 429]
    assert operator.get(f"/register/{entry_id}/thumbnail.jpg").status_code == 200  # counted per person
