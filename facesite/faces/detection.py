"""How many faces a picture holds, found before anything is enrolled, and the picture with them outlined.

Add Face enrols the largest face of a picture and only says afterwards that there were others; by
then a group photo is filed under one person's name. So the portal asks first, where it can:

- in sandbox mode the sandbox's own detector answers (an operator endpoint outside the vendor's API:
  free, nothing is added or searched);
- with the duplicate check, the Search answer itself may say how many faces it saw (the sandbox's does,
  in ``extra.faceCount``), and that search is made before Add Face anyway.

With a real vendor whose answers do not say, the count is only known from Add Face, after the fact:
the result page then shows the vendor's note as before.
"""
from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass

import requests
from PIL import Image, ImageDraw, ImageOps

from facesite.advance import FaceRect
from facesite.config import settings
from facesite.faces.results import Picture
from facesite.pictures.image_rules import ImageRuleError, decode_room
from facesite.pictures.thumbnails import upright_size
from facesite.sandbox import operator_api

log = logging.getLogger(__name__)

OUTLINE_SIDE = 640  # the outlined copy shown on the page, at most this many pixels on a side
COLOURS = ("#ffcc00", "#00e5ff", "#ff4fd8", "#7cff4f")


@dataclass(frozen=True)
class FacesSeen:
    count: int
    boxes: tuple[FaceRect, ...] = ()  # largest first; fewer than ``count`` when the answer gave only the largest

    @property
    def several(self) -> bool:
        return self.count > 1


def faces_in(picture: Picture) -> FacesSeen | None:
    """The faces in the picture to send, found without enrolling it; None when nobody can tell before
    Add Face (a real vendor), or the sandbox did not answer (the enrolment then goes on as before)."""
    base_url = settings().advance_base_url
    if not (settings().sandbox_mode and base_url):
        return None
    try:
        found = operator_api.detect_faces(base_url, picture.data, picture.filename, picture.facts.mime_type)
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        # Not a fault of the portal's (a stand-in upstream without the sandbox's endpoints, or one that
        # is down): Add Face goes on as before and says so itself. One line, no traceback.
        log.warning("the sandbox could not count the faces in a picture: %s", type(error).__name__)
        return None
    boxes = tuple(box for box in (FaceRect.from_extra({"faceRect": face}) for face in found) if box)
    return FacesSeen(len(found), boxes)


def from_search(face_count: int | None, face: FaceRect | None) -> FacesSeen | None:
    """What a Search answer said about the picture searched with (None when it said nothing)."""
    return FacesSeen(face_count, (face,) if face else ()) if face_count else None


def outlined(picture: Picture, seen: FacesSeen) -> str | None:
    """A small JPEG of the picture with each face found outlined and numbered (1 is the largest), as a
    data: URL for the page; None when the picture cannot be drawn on."""
    shown = _upright_copy(picture)
    if shown is None:
        return None
    image, scale = shown
    draw = ImageDraw.Draw(image)
    line = max(2, round(max(image.size) / 200))
    for number, box in enumerate(seen.boxes, start=1):
        colour = COLOURS[(number - 1) % len(COLOURS)]
        left, top = box.left * scale, box.top * scale
        right, bottom = left + box.width * scale, top + box.height * scale
        draw.rectangle((left, top, right, bottom), outline=colour, width=line)
        label_top = max(0, top - 14 - line)
        draw.rectangle((left, label_top, left + 14, label_top + 14), fill=colour)
        draw.text((left + 4, label_top + 1), str(number), fill="#000000")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def _upright_copy(picture: Picture) -> tuple[Image.Image, float] | None:
    """The picture upright, at most OUTLINE_SIDE on a side, and its scale from the full size the face boxes
    are given in. The check's decoded pixels when there are any; otherwise a reduced-scale decode that
    holds its room in the process's pixel budget like every other decode (image_rules.decode_room)."""
    full = upright_size(picture.data)
    image = picture.facts.decoded
    try:
        if image is None:
            image = Image.open(io.BytesIO(picture.data))
            image.draft("RGB", (OUTLINE_SIDE, OUTLINE_SIDE))
            with decode_room(image.width * image.height):
                image.load()
        image = ImageOps.exif_transpose(image).convert("RGB")
    except (ImageRuleError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    image.thumbnail((OUTLINE_SIDE, OUTLINE_SIDE))
    return (image, image.width / full[0]) if full else None
