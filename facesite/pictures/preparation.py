"""Making a picture the vendor accepts out of a picture as staff have it, in one place.

Phone photos arrive as HEIC, 4032 × 3024, several MB, turned only by an EXIF tag;
webcams and folders give WebP or PNG. ``prepare`` turns any of them into a PNG or
JPEG that meets ``image_rules`` with the least quality loss, and says what it did:

- a picture already within the rules is only stripped of its metadata, losslessly
  (JPEG APP1/APP13/COM segments, PNG text and EXIF chunks), never re-encoded;
- anything else is turned upright, scaled down to 4096 px if larger, and encoded as
  JPEG at the highest quality that stays below 2 MB.

Pictures under 256 px are refused: scaling up would invent detail.
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field

from flask_babel import gettext as _, lazy_gettext as _l
from PIL import Image, UnidentifiedImageError

from facesite.pictures import decoding, image_rules

try:  # HEIC/HEIF support; without the package those files are refused as "not an image"
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is in requirements-portal.txt
    pillow_heif = None

# What staff may upload when preparation is on (Pillow's format names).
INPUT_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "HEIF": "image/heic", "WEBP": "image/webp",
                 "MPO": "image/jpeg"}  # MPO: what some phones write for a JPEG with a depth map
INPUT_EXTENSIONS = (".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp")
JPEG_QUALITIES = (95, 92, 90, 87, 85, 82, 80, 75, 70, 65, 60)
ORIENTATION_TAG = 0x0112
# Segments and chunks that carry who, where and with what a picture was taken.
JPEG_METADATA_MARKERS = {0xE1, 0xED, 0xFE}  # APP1 (EXIF, XMP), APP13 (IPTC), COM
PNG_METADATA_CHUNKS = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


@dataclass
class PreparedPicture:
    data: bytes
    facts: image_rules.ImageFacts
    steps: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return "; ".join(self.steps) if self.steps else _("sent as it was")


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size / 1000:.0f} KB"


def _open(data: bytes) -> Image.Image:
    """The picture's header, read without decoding a pixel; a large JPEG set to decode at a reduced scale.
    Refuses what is not a picture, and what would decode to more than PICTURE_MAX_PIXELS."""
    if not data:
        raise image_rules.ImageRuleError(image_rules.MSG_NOT_IMAGE)
    try:
        image = Image.open(io.BytesIO(data))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise image_rules.ImageRuleError(image_rules.MSG_NOT_IMAGE) from None
    except Image.DecompressionBombError:
        raise image_rules.ImageRuleError(image_rules.MSG_RESOLUTION, _too_many_pixels()) from None
    if image.format not in INPUT_FORMATS:
        raise image_rules.ImageRuleError(image_rules.MSG_NOT_IMAGE)
    if decode_cost(image) > decoding.MAX_PIXELS:
        raise image_rules.ImageRuleError(image_rules.MSG_RESOLUTION, _too_many_pixels())
    return image


def decode_cost(image: Image.Image) -> int:
    """What decoding ``image`` costs, in pixels of plain RGB: a picture with transparency, a palette or
    16-bit samples counts twice, since flattening or converting it needs a second full-size copy."""
    width, height = _decoded_size(image)
    return width * height * (1 if image.mode in ("RGB", "L", "1", "YCbCr", "CMYK") else 2)


def _decoded_size(image: Image.Image) -> tuple[int, int]:
    """The size ``_upright_jpeg`` decodes: nothing sent is larger than MAX_SIDE, so a JPEG of twice that
    (a 48 MP phone photo) is decoded at half its size, which libjpeg does directly."""
    if image.format in ("JPEG", "MPO"):
        size = decoding.jpeg_draft_size(image.width, image.height, image_rules.MAX_SIDE // 2, image_rules.MIN_SIDE)
        if size:  # libjpeg's choice, as Pillow's JpegImageFile.draft makes it
            most = min(image.width // size[0], image.height // size[1])
            scale = next(factor for factor in (8, 4, 2, 1) if most >= factor)
            return -(-image.width // scale), -(-image.height // scale)
    return image.size


def _too_many_pixels() -> str:
    return _("This picture has more pixels than the portal decodes (%(megapixels)s megapixels, half that with "
             "transparency; PICTURE_MAX_MEGAPIXELS): export it smaller.", megapixels=round(decoding.MAX_PIXELS / 1e6))


def _checked_orientation(image: Image.Image) -> int:
    """The EXIF orientation, after refusing a picture that is damaged or too small once upright."""
    try:
        orientation = _orientation(image)
    except Exception:  # Pillow raises several kinds for truncated or corrupt data
        raise image_rules.ImageRuleError(image_rules.MSG_NOT_IMAGE, image_rules.HINT_DAMAGED) from None
    width, height = (image.height, image.width) if orientation in (5, 6, 7, 8) else image.size
    if min(width, height) < image_rules.MIN_SIDE:
        raise image_rules.ImageRuleError(image_rules.MSG_RESOLUTION, _l(
            "This picture is %(width)s × %(height)s px. Pictures are never scaled up, so each side needs at "
            "least %(min)s px: take or choose a larger one.", width=width, height=height, min=image_rules.MIN_SIDE))
    return orientation


def _orientation(image: Image.Image) -> int:
    # Pillow's getexif() on a PNG decodes every pixel to look for an eXIf chunk after the image data,
    # outside any budget; the PNG specification puts eXIf before the data, where open() has read it.
    if image.format == "PNG":
        raw = image.info.get("exif")
        if not raw:
            return 1
        exif = Image.Exif()
        exif.load(raw)
        return exif.get(ORIENTATION_TAG, 1)
    return image.getexif().get(ORIENTATION_TAG, 1)


def inspect(data: bytes) -> None:
    """Refuse what ``prepare`` would refuse, without encoding anything: for checking many
    pictures at once (a batch upload). A JPEG is decoded at 1/8 scale, which still reads
    every block, so a truncated file is caught."""
    image = _open(data)
    _checked_orientation(image)
    if image.format in ("JPEG", "MPO"):
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
    with image_rules.decode_room(image.width * image.height):
        try:
            image.load()
        except Exception:  # Pillow raises several kinds for truncated or corrupt data
            raise image_rules.ImageRuleError(image_rules.MSG_NOT_IMAGE, image_rules.HINT_DAMAGED) from None


def prepare(data: bytes) -> PreparedPicture:
    """A compliant picture made from ``data``; ImageRuleError when none can be made."""
    image = _open(data)
    orientation, image_format = _checked_orientation(image), image.format
    del image  # only the header was read; _reencode decodes its own copy (see there why)
    if image_format in ("JPEG", "PNG") and orientation == 1:
        try:
            stripped, removed = strip_metadata(data, image_format)
            facts = image_rules.check_image(stripped)
        except image_rules.ImageRuleError:
            pass  # too big, too large or damaged as it is: decode and re-encode below
        else:
            return PreparedPicture(stripped, facts, [_("metadata removed (EXIF, GPS location, camera, comments)")]
                                   if removed else [])
    return _reencode(data, orientation)


# What ImageOps.exif_transpose does for each EXIF orientation, applied after scaling down (cheaper).
TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
             5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
             8: Image.Transpose.ROTATE_90}


def _reencode(data: bytes, orientation: int) -> PreparedPicture:
    """Decode, scale down, turn upright, flatten onto white, encode as JPEG.

    Memory is the point: this frame holds the only reference to the decoded pixels, and each step
    replaces it, so the full-size picture is freed as soon as its smaller copy exists. A picture past
    MAX_SIDE is first shrunk by a whole factor (a box filter that makes no full-size intermediate,
    unlike a LANCZOS resize) to a long side of MAX_SIDE/2 or more, the way a large JPEG is decoded."""
    image = _open(data)
    original_format, original_dims = image.format, f"{image.width} × {image.height}"
    width, height = _decoded_size(image)
    if (width, height) != image.size:
        image.draft("RGB", (width, height))
    steps = [_("resized from %(before)s to %(after)s while decoding", before=original_dims, after=f"{width} × {height}")] \
        if f"{width} × {height}" != original_dims else []
    with image_rules.decode_room(decode_cost(image)):
        try:
            image.load()
        except Exception:  # Pillow raises several kinds for truncated or corrupt data
            raise image_rules.ImageRuleError(image_rules.MSG_NOT_IMAGE, image_rules.HINT_DAMAGED) from None
        if image.mode not in ("RGB", "L", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() or image.mode == "P" else "RGB")
        if max(image.size) > image_rules.MAX_SIDE:
            before = f"{image.width} × {image.height}"
            factor = max(image.size) // (image_rules.MAX_SIDE // 2)
            image = image.reduce(factor) if factor > 1 else image
            if max(image.size) > image_rules.MAX_SIDE:
                image = image.resize(_fitted(image.size, image_rules.MAX_SIDE), Image.Resampling.LANCZOS)
            steps.append(_("resized from %(before)s to %(after)s", before=before, after=f"{image.width} × {image.height}"))
        if orientation in TRANSPOSE:
            image = image.transpose(TRANSPOSE[orientation])
            steps.insert(0, _("turned upright (EXIF orientation %(orientation)s)", orientation=orientation))
        if image.mode == "RGBA":
            background = Image.new("RGB", image.size, (255, 255, 255))
            background.paste(image, mask=image)  # the alpha band itself is the mask: no copies
            image = background
        result, quality, fitted = _jpeg_below_limit(image)
    if fitted:
        steps.append(_("resized to %(size)s to fit below 2 MB", size=fitted))
    steps.append(_("re-encoded %(format)s %(size)s as JPEG (quality %(quality)s), %(before)s → %(after)s",
                   format=original_format, size=original_dims, quality=quality, before=_mb(len(data)),
                   after=_mb(len(result))))
    steps.append(_("metadata removed"))
    return PreparedPicture(result, image_rules.check_image(result), steps)


def _jpeg_below_limit(image: Image.Image) -> tuple[bytes, int, str | None]:
    """The highest quality that stays below MAX_BYTES (scaling down past the lowest); optimized Huffman
    tables only for smaller pictures, since libjpeg then buffers every coefficient (~6 bytes a pixel)."""
    optimize = image.width * image.height <= 4_000_000
    for quality in JPEG_QUALITIES:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, optimize=optimize)  # no exif= argument: no metadata
        if out.tell() < image_rules.MAX_BYTES:
            return out.getvalue(), quality, None
    while out.tell() >= image_rules.MAX_BYTES:
        image = image.resize((int(image.width * 0.85), int(image.height * 0.85)), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        image.save(out, "JPEG", quality=JPEG_QUALITIES[-1], optimize=optimize)
    return out.getvalue(), JPEG_QUALITIES[-1], f"{image.width} × {image.height}"


def _fitted(size: tuple[int, int], longest: int) -> tuple[int, int]:
    scale = longest / max(size)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def strip_metadata(data: bytes, image_format: str) -> tuple[bytes, bool]:
    """The same pixels without metadata, byte for byte otherwise; (bytes, whether anything was removed)."""
    return _strip_jpeg(data) if image_format == "JPEG" else _strip_png(data)


def _strip_jpeg(data: bytes) -> tuple[bytes, bool]:
    out, position, removed = bytearray(data[:2]), 2, False
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = struct.unpack(">H", data[position + 2:position + 4])[0]
        segment = data[position:position + 2 + length]
        if marker in JPEG_METADATA_MARKERS:
            removed = True
        else:
            out += segment
        position += 2 + length
    return bytes(out + data[position:]), removed


def _strip_png(data: bytes) -> tuple[bytes, bool]:
    out, position, removed = bytearray(data[:8]), 8, False
    while position + 8 <= len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        kind = data[position + 4:position + 8]
        chunk = data[position:position + 12 + length]
        if kind in PNG_METADATA_CHUNKS:
            removed = True
        else:
            out += chunk
        position += 12 + length
        if kind == b"IEND":
            break
    return bytes(out), removed


def browser_rules(max_upload_bytes: int) -> dict:
    """What the browser's pre-check allows when the server prepares pictures."""
    rules = image_rules.browser_rules()
    limit_mb = max_upload_bytes // (1024 * 1024)
    rules.update({"mimeTypes": sorted(set(INPUT_FORMATS.values()) | {"image/heif"}),
                  "extensions": list(INPUT_EXTENSIONS), "maxBytes": max_upload_bytes, "maxSide": None,
                  "prepared": True})
    # Too large for the portal is the portal's own refusal (no vendor words); too small stays the vendor's.
    rules["messages"] = {**rules["messages"], "tooLarge": _("The portal accepts pictures up to %(mb)s MB.", mb=limit_mb)}
    rules["explanations"] = {**rules["explanations"], "tooLarge": "",
                             "resolution": _("The picture is too small in pixels: pictures are never scaled up.")}
    return rules


def rules_text() -> str:
    return _("JPEG, PNG, HEIC or WebP. Larger than 4096 px or 2 MB is fine: the portal scales and re-encodes it. "
             "At least 256 × 256 pixels.")
