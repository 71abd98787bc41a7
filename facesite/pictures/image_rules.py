"""The vendor's rules for a face picture, defined once.

The portal's forms, the sandbox upstream and the browser pre-check (which gets
``browser_rules()`` rendered into the page) all read these numbers and
messages, so the three can never disagree. Messages are the vendor's own,
letter for letter, so staff see the same words whether the portal or the
vendor refused the picture.
"""
from __future__ import annotations

import io
import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask_babel import gettext as _, lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from facesite.pictures import decoding

# Pillow names -> MIME types the vendor accepts ("PNG / JPG / JPEG").
ALLOWED_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
ALLOWED_EXTENSIONS = (".png", ".jpg", ".jpeg")
# "below 2 MB": strictly less than 2 MiB.
MAX_BYTES = 2 * 1024 * 1024
MIN_SIDE = 256
# Pixels on the long side that checking a JPEG keeps decoded, for its preview and thumbnail.
DECODED_LONG_SIDE = 640
MAX_SIDE = 4096

MSG_NOT_IMAGE = "File should be an image file, like jpg, png, jpeg."
MSG_TOO_LARGE = "File size should be less than 2MB"
MSG_RESOLUTION = "Image resolution should be 256 * 256 to 4096 * 4096"
# Said after MSG_NOT_IMAGE when the header is fine but the pixels are not (the portal's words: translated).
HINT_DAMAGED = _l("The file looks damaged or cut short; save or export it again.")
# What each of the vendor's messages means, in the reader's words: shown beside the vendor's exact text.
EXPLANATIONS = {
    MSG_NOT_IMAGE: _l("This file is not a picture the vendor takes."),
    MSG_TOO_LARGE: _l("The picture is too big for the vendor."),
    MSG_RESOLUTION: _l("The picture is too small or too large in pixels."),
}
REASONS = {MSG_NOT_IMAGE: "not_an_image", MSG_TOO_LARGE: "too_large", MSG_RESOLUTION: "resolution"}



def rules_text() -> str:
    """The rules in the reader's words (the vendor's own messages above stay as the vendor wrote them)."""
    return _("PNG or JPEG, below %(mb)s MB, from %(min)s × %(min)s to %(max)s × %(max)s pixels.",
             mb=MAX_BYTES // (1024 * 1024), min=MIN_SIDE, max=MAX_SIDE)


class ImageRuleError(ValueError):
    """The picture breaks one of the vendor's rules.

    ``vendor_message`` is the vendor's exact words (what the sandbox answers);
    ``str()`` adds a hint for staff where the vendor's words alone would puzzle.
    """

    def __init__(self, vendor_message: str, hint: str = ""):
        super().__init__(vendor_message)
        self.vendor_message = vendor_message
        self.hint = hint

    @property
    def reason(self) -> str:
        """A word for what was wrong, from a short fixed list (the metrics count refusals by it); else the
        pixel budget's "busy, try again": no fault of the picture, but staff still saw a refusal."""
        return REASONS.get(self.vendor_message, "decoder_busy")

    def __str__(self) -> str:
        """The vendor's words, then what they mean and what to do in the reader's (put in words when shown)."""
        explanation = EXPLANATIONS.get(self.vendor_message, "")
        return " ".join(str(part) for part in (self.vendor_message, explanation, self.hint) if part)


@dataclass(frozen=True)
class ImageFacts:
    format: str  # "PNG" or "JPEG"
    mime_type: str
    width: int
    height: int
    size_bytes: int
    # The pixels the check decoded (a JPEG at 1/8 scale): reused for thumbnails, so that
    # a large picture is not decoded a second time.
    decoded: Image.Image | None = field(default=None, repr=False, compare=False)

    @property
    def extension(self) -> str:
        return ".png" if self.format == "PNG" else ".jpg"


def check_image(data: bytes) -> ImageFacts:
    """Check a picture by its content (never its file name) and describe it.

    Raises ImageRuleError with the vendor's message for the first rule broken.
    The dimensions are read from the header before any pixel is decoded, so a
    decompression bomb is refused without being expanded in memory.
    """
    if not data:
        raise ImageRuleError(MSG_NOT_IMAGE)
    if len(data) >= MAX_BYTES:
        raise ImageRuleError(MSG_TOO_LARGE)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image_format = image.format
            width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # The header claims more pixels than Pillow will even open: far past MAX_SIDE.
        raise ImageRuleError(MSG_RESOLUTION) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ImageRuleError(MSG_NOT_IMAGE) from None
    if image_format not in ALLOWED_FORMATS:
        raise ImageRuleError(MSG_NOT_IMAGE)
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        # The vendor's words give no size of the picture itself: staff must not have to work out why.
        raise ImageRuleError(MSG_RESOLUTION, _l("This picture is %(width)s × %(height)s px; the vendor takes %(min)s "
                                                "to %(max)s px on each side.", width=width, height=height,
                                                min=MIN_SIDE, max=MAX_SIDE))
    if image_format == "JPEG":
        # A reduced-scale decode still reads every block of the file (so a truncated or corrupt JPEG
        # fails here) at about half the cost of a full one. It keeps DECODED_LONG_SIDE px, enough for
        # the result page's preview and a face thumbnail without decoding again: 1/4 scale instead of
        # 1/8 costs 1 ms more for a 1.3 MB photo, a second decode for a sharp face 12 ms.
        scale = min(1.0, DECODED_LONG_SIDE / max(width, height))
        image.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
    with decode_room(image.width * image.height):
        try:
            image.load()  # decode: catches truncated and corrupt files
        except Exception:  # Pillow raises OSError, SyntaxError, ValueError... for bad data
            raise ImageRuleError(MSG_NOT_IMAGE, HINT_DAMAGED) from None
    return ImageFacts(
        format=image_format,
        mime_type=ALLOWED_FORMATS[image_format],
        width=width,
        height=height,
        size_bytes=len(data),
        decoded=image,
    )


@contextmanager
def decode_room(pixels: int):
    """Hold room for ``pixels`` decoded pixels in this process's budget (see decoding.py); a budget that
    stays full is told to staff like a refused picture, so the form comes back with everything kept."""
    try:
        with decoding.reserved(pixels):
            yield
    except decoding.DecodeBusy as busy:
        raise ImageRuleError(str(busy)) from None


def browser_rules() -> dict:
    """The same rules as data for the page's pre-check script (rendered as JSON)."""
    return {
        "mimeTypes": sorted(ALLOWED_FORMATS.values()),
        "extensions": list(ALLOWED_EXTENSIONS),
        "maxBytes": MAX_BYTES,
        "minSide": MIN_SIDE,
        "maxSide": MAX_SIDE,
        "messages": {
            "notImage": MSG_NOT_IMAGE,
            "tooLarge": MSG_TOO_LARGE,
            "resolution": MSG_RESOLUTION,
        },
        # What the vendor's words mean, in the reader's language: shown after them.
        "explanations": {
            "notImage": str(EXPLANATIONS[MSG_NOT_IMAGE]),
            "tooLarge": str(EXPLANATIONS[MSG_TOO_LARGE]),
            "resolution": str(EXPLANATIONS[MSG_RESOLUTION]),
        },
    }
