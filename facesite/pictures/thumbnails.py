"""Small upright copies of a picture, without its metadata: the register's thumbnails (a square around the
face where the vendor found one) and the previews result pages show."""
from __future__ import annotations

import io

from PIL import Image, ImageOps

from facesite.advance import FaceRect
from facesite.pictures import image_rules
from facesite.pictures.image_rules import DECODED_LONG_SIDE

THUMBNAIL_SIDE = 160
ORIENTATION_TAG = 0x0112
# A face thumbnail's square is this many times the face's own size: the whole head, a little shoulder.
FACE_CROP_MARGIN = 1.8
# A preview's longest side, and the least a decode already made must have to be used for it.
PREVIEW_MIN_SIDE, PREVIEW_SIDE = 240, 480


def thumbnail(picture: bytes, decoded: Image.Image | None = None, side: int = THUMBNAIL_SIDE,
              face: FaceRect | None = None) -> bytes:
    """A small JPEG of the picture (longest side at most ``side``), upright and without any metadata
    (never the original). With the ``face`` the vendor found, a square around that face (a viewer
    checks a match by the face, not by a chest and crossed arms); without, the whole picture.
    ``decoded``: the pixels the picture check already decoded, used when they are big enough."""
    upright = upright_size(picture) if face else None
    wanted = side if upright is None else max(side, round(side * max(upright) / (max(face.width, face.height) * FACE_CROP_MARGIN)))
    # The check's pixels when there are any (image_rules keeps DECODED_LONG_SIDE px): a second, larger
    # decode for a sharper face cost 12 ms per enrolment, a third of its CPU (issue 14).
    if decoded is not None and max(decoded.size) >= min(wanted, DECODED_LONG_SIDE) * 3 // 4:
        image = decoded
    else:
        image = Image.open(io.BytesIO(picture))
        image.draft("RGB", (wanted, wanted))  # JPEG: decode at the smallest scale that fits
    image = ImageOps.exif_transpose(image).convert("RGB")
    if upright is not None:
        image = image.crop(square_around(face, image.width / upright[0], image.size))
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def square_around(face: FaceRect, scale: float, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The crop box of a square centred on the face (given in full-size pixels; the image is ``scale``
    times that), as large as FACE_CROP_MARGIN asks but inside the image."""
    width, height = size
    half = min(max(face.width, face.height) * FACE_CROP_MARGIN * scale, width, height) / 2
    centre_x = min(max((face.left + face.width / 2) * scale, half), width - half)
    centre_y = min(max((face.top + face.height / 2) * scale, half), height - half)
    return (round(centre_x - half), round(centre_y - half), round(centre_x + half), round(centre_y + half))


def upright_size(picture: bytes) -> tuple[int, int] | None:
    """The picture's (width, height) as shown, from its header alone (an EXIF turn swaps them)."""
    try:
        image = Image.open(io.BytesIO(picture))
        turned = image.getexif().get(ORIENTATION_TAG) in (5, 6, 7, 8)
    except (OSError, ValueError, SyntaxError):
        return None
    return (image.height, image.width) if turned else image.size


def searchable(thumbnail_bytes: bytes) -> bytes:
    """A register thumbnail enlarged until its shortest side meets the vendor's minimum, to search with
    (the register keeps no larger picture of a face: the page says the scores are less sure)."""
    image = Image.open(io.BytesIO(thumbnail_bytes)).convert("RGB")
    scale = max(1.0, image_rules.MIN_SIDE / min(image.size))
    if scale > 1:
        image = image.resize((max(image_rules.MIN_SIDE, round(image.width * scale)),
                              max(image_rules.MIN_SIDE, round(image.height * scale))), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def searchable_side(width: int, height: int) -> int:
    """The longest side of a preview whose shortest side still meets the vendor's minimum, so that the
    result page's "Search with this face" can send it (PREVIEW_SIDE unless the picture is very long)."""
    longest, shortest = max(width, height), max(1, min(width, height))
    return min(longest, max(PREVIEW_SIDE, -(-image_rules.MIN_SIDE * longest // shortest)))
