"""Register thumbnails show the face (issue 18, item 1): centred on the face the answer located, else
the whole picture fitted, never a blind centre crop of a standing portrait."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from facesite.advance import FaceRect
from facesite.advance.answers import AddedFace, _note
from facesite.pictures.thumbnails import THUMBNAIL_SIDE, thumbnail
from tests.support import EnrolPage, face


def standing_portrait(photo="obama.jpg", size=(1200, 2400), at=(80, 1500)) -> bytes:
    """A tall photo with the face small and low on one side, as a full-length portrait has it."""
    canvas = Image.new("RGB", size, (40, 90, 60))
    canvas.paste(Image.open(io.BytesIO(face(photo))).convert("RGB"), at)
    out = io.BytesIO()
    canvas.save(out, "JPEG", quality=92)
    return out.getvalue()


def faces_in(jpeg: bytes) -> list:
    from facesite.sandbox.engine import NoFaceError, get_engine
    try:
        return [get_engine().embed(jpeg)]
    except NoFaceError:
        return []


@pytest.mark.parametrize("extra", [
    None, "", {"note": "x"}, {"faceRect": None}, {"faceRect": {"left": 1, "top": 2, "width": 3}},
    {"faceRect": {"left": "1", "top": 2, "width": 3, "height": 4}},
    {"faceRect": {"left": -1, "top": 2, "width": 3, "height": 4}},
    {"faceRect": {"left": True, "top": 2, "width": 3, "height": 4}},
    {"faceRect": {"left": 1, "top": 2, "width": 0, "height": 4}},
    {"faceRect": {"left": 1, "top": 2, "width": 10 ** 9, "height": 4}},
])
def test_a_face_box_is_taken_only_when_it_is_four_sensible_whole_numbers(extra):
    assert FaceRect.from_extra(extra) is None


def test_a_face_box_is_read_and_is_not_mistaken_for_a_note():
    extra = {"faceRect": {"left": 10, "top": 20, "width": 30, "height": 40}}
    assert FaceRect.from_extra(extra) == FaceRect(10, 20, 30, 40)
    assert _note(extra) is None and _note({**extra, "note": "2 faces"}) == "2 faces"
    assert AddedFace.__dataclass_fields__["face"].default is None


def test_with_a_face_box_the_thumbnail_is_a_square_on_the_face():
    picture = standing_portrait()
    whole = Image.open(io.BytesIO(thumbnail(picture)))
    assert whole.size == (THUMBNAIL_SIDE // 2, THUMBNAIL_SIDE)  # without a box: all of it, fitted, not cropped
    found = faces_in(picture)[0]
    centred = thumbnail(picture, face=FaceRect(*found.box))
    assert Image.open(io.BytesIO(centred)).size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    again = faces_in(centred)
    assert again, "no face in the face-centred thumbnail"
    width = again[0].box[2]
    assert width > THUMBNAIL_SIDE * 0.35  # the face fills the thumbnail, not a corner of it


def test_a_face_box_at_the_edge_still_gives_a_square_inside_the_picture():
    picture = standing_portrait(at=(0, 2400 - 240))
    near_corner = thumbnail(picture, face=FaceRect(1100, 2300, 100, 100))
    assert Image.open(io.BytesIO(near_corner)).size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE)


def test_an_enrolled_standing_portrait_shows_its_face_in_the_register_and_search(app, client, face_set):
    answer = EnrolPage(client).send(standing_portrait(), faceSetId=face_set, name="Standing Person")
    assert answer.status_code == 303
    listed = client.get(f"/register/?face_set={face_set}").get_data(as_text=True)
    src = re.search(r'src="(/register/\d+/thumbnail\.jpg)"', listed).group(1)
    thumb = client.get(src).data
    assert Image.open(io.BytesIO(thumb)).size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE)
    again = faces_in(thumb)
    assert again and again[0].box[2] > THUMBNAIL_SIDE * 0.35
