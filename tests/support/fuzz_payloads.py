"""Hypothesis strategies for hostile values: text, numbers, and pictures mutated from the real photos.

Large values are built from a small drawn piece repeated (Hypothesis draws a few bytes, not a
megabyte), and pictures are the real photos of tests/data/faces put through drawn mutations, so an
example stays cheap to generate while what it sends can be huge or subtly broken.
"""
from __future__ import annotations

import functools
import io
import struct

from hypothesis import strategies as st
from PIL import Image

from tests.support import FACES, PASSWORD
from tests.support.pictures import png_claiming_size

# Text that has broken web applications before: direction overrides, NUL, lone surrogates (sent
# as the bytes Python would write for them), emoji sequences, numbers no parser expects, markup.
ODD_TEXT = [
    "", " ", "\x00", "a\x00b", "\r\n", "\n\nSet-Cookie: x=1", "\u202eevil\u202c", "\u200f\u05e9\u05dc\u05d5\u05dd",
    "\u0645\u0631\u062d\u0628\u0627", "👩🏽‍💻👨‍👩‍👧‍👦🏳️‍🌈", "e\u0301" * 50, "\ufeffBOM", "\ud800", "x\udfffy",
    "ＡＢＣ１２３", "١٢٣", "𝟗𝟗", "NaN", "-NaN", "Infinity", "-inf", "1e309", "-0", "0x10", "1_000", " 7 ", "9" * 400,
    "../../../../etc/passwd", "..\\..\\windows\\win.ini", "%00", "%2e%2e%2f", "<script>alert(1)</script>",
    "\"><img src=x>", "' OR '1'='1' --", "{{7*7}}", "${7*7}", "=HYPERLINK(\"http://x\")", "@SUM(1)", "\x7f\x1b[31m",
    "null", "None", "[]", "{}", "true", "\u2028\u2029", "\U0010ffff", "\ue000",
]
NUMBERS = ["0", "1", "-1", "5", "20", "80", "80.5", "100", "101", "2147483648", "9223372036854775808",
           str(10 ** 30), "-" + str(10 ** 30), "1e-400", "0.000000000000000000001", "1,5", "٣"]
SIZES = [1_000, 10_000, 100_000, 1_000_000]


def choice_of(values: list) -> st.SearchStrategy:
    """sampled_from for long values: Hypothesis describes a strategy by its arguments, and a
    description holding megabytes is slow to build."""
    return st.integers(0, len(values) - 1).map(values.__getitem__)


def repeated(piece: str, length: int) -> str:
    return (piece * (length // max(1, len(piece)) + 1))[:length]


def hostile_text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(ODD_TEXT),
        st.sampled_from(NUMBERS),
        st.text(max_size=40),
        st.builds(repeated, st.sampled_from(ODD_TEXT[1:] + ["A", "é", "😀"]), st.sampled_from(SIZES)),
    )


def encode_text(value: str, encoding: str = "utf-8") -> bytes:
    """The bytes of ``value`` as a careless client would send them (lone surrogates included)."""
    try:
        return value.encode(encoding, "surrogatepass")
    except (UnicodeEncodeError, LookupError):
        return value.encode("utf-8", "surrogatepass")


# Values that get a field past its first check, so the fuzz reaches what comes after.
PLAUSIBLE = {
    "faceSetId": ["demo", "1", "branch-1", "no-such-set", "Catalogue 1", "DEMO"],
    "country": ["ID", "Indonesia", "id", "ZZ", "Côte d’Ivoire"],
    "topK": NUMBERS, "threshold": NUMBERS, "default_top_k": NUMBERS, "default_threshold": NUMBERS,
    "role": ["viewer", "operator", "admin", "root", ""],
    "username": ["vera", "otto", "ada", "new.user", "OTTO", "otto "],
    "password": [PASSWORD, "short", "a long enough passphrase"],
    "current": [PASSWORD], "confirm": [PASSWORD, "a long enough passphrase"],
    "prepare_pictures": ["y", "n", "on"], "checkDuplicates": ["y"], "duplicatesSeen": ["1"],
    "idNumber": ["3201234567890001"], "externalReferenceId": ["EMP-1"], "idCardType": ["KTP"],
    "name": ["Maria Santos"], "since": ["2024-01-01", "9999-12-31", "0001-01-01", "2024-02-30"],
    "until": ["2024-01-01", "9999-12-31", "0001-01-01", "31/12/2024"],
}

# What a careful user types into an empty field: a nearly valid form gets these.
VALID = {"faceSetId": "1", "topK": "5", "threshold": "80", "country": "ID", "name": "Fuzz Person",
         "idNumber": "3201234567890001", "idCardType": "KTP", "username": "fuzz.user", "current": PASSWORD,
         "password": "a long enough passphrase", "confirm": "a long enough passphrase", "id": "fuzz-set",
         "label": "Fuzz set", "default_top_k": "10", "default_threshold": "75"}


# -- pictures ---------------------------------------------------------------------------------------

@functools.cache
def photos() -> dict[str, bytes]:
    """The real photos, and a few re-encodings of one of them in formats and modes staff meet."""
    found = {path.name: path.read_bytes() for path in sorted(FACES.iterdir()) if path.suffix in (".jpg", ".png")}
    base = Image.open(io.BytesIO(found["obama.jpg"])).convert("RGB").resize((400, 500))
    for label, image, fmt, options in (
            ("png", base, "PNG", {}), ("webp", base, "WEBP", {}), ("gif", base.convert("P"), "GIF", {}),
            ("bmp", base, "BMP", {}), ("tiff", base, "TIFF", {}), ("cmyk.jpg", base.convert("CMYK"), "JPEG", {}),
            ("rgba.png", base.convert("RGBA"), "PNG", {}), ("gray16.png", base.convert("I;16"), "PNG", {}),
            ("progressive.jpg", base, "JPEG", {"progressive": True}), ("1x1.png", base.resize((1, 1)), "PNG", {}),
            ("255px.jpg", base.resize((255, 300)), "JPEG", {})):
        out = io.BytesIO()
        image.save(out, fmt, **options)
        found[label] = out.getvalue()
    return found


def jpeg_claiming_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a JPEG) with its frame header (SOFn) claiming ``width`` × ``height``."""
    out, at = bytearray(data), 2
    while at + 9 < len(out) and out[at] == 0xFF:
        marker, length = out[at + 1], struct.unpack(">H", out[at + 2:at + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC9, 0xCA, 0xCB):
            out[at + 5:at + 9] = struct.pack(">HH", height, width)
            break
        at += 2 + length
    return bytes(out)


def flip_bits(data: bytes, positions: list[float]) -> bytes:
    out = bytearray(data)
    for position in positions:
        index = min(len(out) - 1, int(position * len(out)))
        out[index] ^= 1 << (index % 8)
    return bytes(out)


MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"%PDF-1.7\n",
         b"PK\x03\x04", b"\x00\x00\x00\x18ftypheic", b"<svg xmlns='http://www.w3.org/2000/svg'>", b"BM", b"\x00" * 8]
NOT_PICTURES = [b"", b"hello", b"<html><script>alert(1)</script></html>", b"\x00" * 4096,
                b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><svg>&e;</svg>"]


def pictures() -> st.SearchStrategy[bytes]:
    """A real photo as it is, or mutated: truncated, bit-flipped, wrong magic, giant claimed size, empty."""
    photo = st.sampled_from(sorted(photos())).map(lambda name: photos()[name])
    fraction = st.floats(0, 1, allow_nan=False)
    giant = st.sampled_from([(65500, 65500), (65535, 1), (1, 65535), (8000, 7990), (0, 0)])
    return st.one_of(
        photo,
        st.builds(lambda data, keep: data[: int(len(data) * keep)], photo, fraction),
        st.builds(flip_bits, photo, st.lists(fraction, min_size=1, max_size=12)),
        st.builds(lambda data, magic: magic + data[len(magic):], photo, st.sampled_from(MAGIC)),
        st.builds(lambda size: jpeg_claiming_size(photos()["obama.jpg"], *size), giant),
        st.builds(lambda size: png_claiming_size(*size), st.sampled_from([(65500, 65500), (2 ** 31 - 1, 2 ** 31 - 1),
                                                                          (8000, 7990), (1, 2 ** 31 - 1)])),
        st.builds(lambda data, tail: data + tail, photo, choice_of(NOT_PICTURES + [b"PK\x05\x06" + bytes(18)])),
        choice_of(NOT_PICTURES),
        st.binary(max_size=64),
    )


def file_names(plausible: str) -> st.SearchStrategy[str]:
    return st.one_of(st.just(plausible), choice_of(
        ["", ".", "..", "../../etc/passwd", "C:\\boot.ini", "a\x00.jpg", "face.jpg\r\nX-Evil: 1", "\u202egpj.exe",
         "😀.jpg", "face.JPG", "face.heic", "face.zip", "x" * 300 + ".jpg", repeated("é", 10_000) + ".zip"]))
