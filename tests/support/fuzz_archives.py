"""Hypothesis strategies for batch uploads: broken ZIPs and CSV manifests.

The ZIPs start from real ones (zipfile) and are then damaged the way attackers and broken tools
damage them: truncated, bit-flipped, sizes in the directory that lie, an unsupported compression
method, the encryption flag, names that climb out of the folder, many members, a zero-filled member
named by every row (a zip bomb in small).
"""
from __future__ import annotations

import csv
import functools
import io
import struct
import zipfile

from hypothesis import strategies as st

from tests.support.fuzz_payloads import choice_of, encode_text, flip_bits, hostile_text, photos, repeated

COLUMNS = ("faceSetId", "faceImage", "externalReferenceId", "idNumber", "idCardType", "country", "name")
CENTRAL, LOCAL = b"PK\x01\x02", b"PK\x03\x04"
EMPTY_ZIP = b"PK\x05\x06" + bytes(18)


def make_zip(members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def patch_headers(data: bytes, central: dict[int, bytes], local: dict[int, bytes]) -> bytes:
    """Overwrite fields at the given offsets of every central-directory and local header."""
    out = bytearray(data)
    for signature, fields in ((CENTRAL, central), (LOCAL, local)):
        at = out.find(signature)
        while at >= 0:
            for offset, value in fields.items():
                out[at + offset:at + offset + len(value)] = value
            at = out.find(signature, at + 4)
    return bytes(out)


def lying_sizes(data: bytes, size: int) -> bytes:
    packed = struct.pack("<I", size)
    return patch_headers(data, {20: packed, 24: packed}, {18: packed, 22: packed})


def compression_method(data: bytes, method: int) -> bytes:
    packed = struct.pack("<H", method)
    return patch_headers(data, {10: packed}, {8: packed})


def encrypted_flag(data: bytes) -> bytes:
    return patch_headers(data, {8: b"\x01"}, {6: b"\x01"})


def photo_members(count: int = 2) -> dict[str, bytes]:
    chosen = ("obama.jpg", "biden.jpg", "png", "webp")[:count]
    return {f"people/{name.split('.')[0]}-{i}.{'jpg' if '.' in name else name}": photos()[name]
            for i, name in enumerate(chosen)}


def manifest(rows: list[list[str]], delimiter: str = ",", header=COLUMNS) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def rows_for(members: dict[str, bytes], face_set: str = "demo") -> list[list[str]]:
    return [[face_set, name, f"REF-{i}", "3201234567890001", "KTP", "ID", f"Person {i}"]
            for i, name in enumerate(members)]


@functools.cache
def good_upload(face_set: str = "demo") -> tuple[bytes, bytes]:
    """A ZIP of two real photos and its manifest, as staff would upload them."""
    members = photo_members(2)
    return make_zip(members), manifest(rows_for(members, face_set)).encode()


@functools.cache
def zip_bomb(megabytes: int, rows: int) -> tuple[bytes, str]:
    """``megabytes`` of zeros in a ZIP a thousand times smaller, and a manifest of ``rows`` rows that all
    name it. (Kept small enough that a portal without limits survives a long run of them.)"""
    data = make_zip({"p.jpg": bytes(megabytes * 1024 * 1024)})
    return data, manifest([["demo", "p.jpg", f"BOMB-{i}", "", "", "", ""] for i in range(rows)])


@functools.cache
def many_members(count: int = 3000) -> bytes:
    return make_zip({f"m/{i}.jpg": b"" for i in range(count)}, zipfile.ZIP_STORED)


@functools.cache
def many_rows(count: int = 3000) -> bytes:
    """A manifest of ``count`` rows that all name the same (empty) member."""
    return manifest([["demo", "m/1.jpg"] + [""] * 5] * count).encode()


def zip_damages() -> st.SearchStrategy:
    fraction = st.floats(0, 1, allow_nan=False)
    return st.one_of(
        st.just(lambda data: data),
        st.builds(lambda keep: lambda data: data[: int(len(data) * keep)], fraction),
        st.builds(lambda flips: lambda data: flip_bits(data, flips), st.lists(fraction, min_size=1, max_size=8)),
        st.builds(lambda size: lambda data: lying_sizes(data, size), st.sampled_from([0, 1, 2 ** 31, 2 ** 32 - 1])),
        st.builds(lambda method: lambda data: compression_method(data, method), st.sampled_from([1, 6, 12, 14, 99])),
        st.just(encrypted_flag),
        st.just(lambda data: data + b"trailing garbage"),
        st.just(lambda data: b"prefix" + data),
    )


ODD_NAMES = ["../../evil.jpg", "/abs/face.jpg", "C:\\face.jpg", "a\x00b.jpg", "__MACOSX/._x.jpg", ".hidden.jpg",
             "dir/", "face.jpg/", "😀.jpg", "x" * 300 + ".jpg", "FACE.JPG", "face.jpg", "nested.zip", "m.csv"]


@st.composite
def batch_upload(draw):
    """A function making (ZIP, manifest or None): a plausible upload, or one broken in a drawn way. (Made
    only when the form sent is the batch upload: zipping photos for every example would be slow.)"""
    kind = draw(st.sampled_from(["photos", "odd names", "inside manifest", "bomb", "many", "empty", "not a zip"]))
    members = photo_members(draw(st.integers(1, 4)))
    damage, manifest_for = draw(zip_damages()), draw(st.one_of(st.none(), manifests()))
    if kind == "odd names":
        names = draw(st.lists(st.sampled_from(ODD_NAMES), min_size=1, max_size=6))
        members = {name: draw(choice_of([photos()["obama.jpg"], b"", b"PK\x03\x04"])) for name in names}
    elif kind == "bomb":
        size, with_rows = draw(st.sampled_from([(1, 40), (60, 1)])), draw(st.booleans())
        return lambda: (damage(zip_bomb(*size)[0]), zip_bomb(*size)[1].encode() if with_rows else None)
    elif kind == "many":
        with_rows = draw(st.booleans())
        return lambda: (many_members(), many_rows() if with_rows else None)
    elif kind == "not a zip":
        data = draw(choice_of([photos()["obama.jpg"], photos()["png"], b"", b"PK"]))
        return lambda: (data, None)
    inside = draw(manifests()) if kind == "inside manifest" else None

    def upload():
        files = {**members, "manifest.csv": inside(members)} if inside else members
        archive = EMPTY_ZIP if kind == "empty" else damage(make_zip(files))
        return archive, manifest_for(members) if manifest_for else None

    return upload


@st.composite
def manifests(draw):
    """A function making a manifest for the members of a ZIP: plain, or broken in a drawn way (NUL,
    huge cell, wrong encoding, ...)."""
    face_set = draw(st.sampled_from(["demo", "1", "no-such-set", ""]))
    kind = draw(st.sampled_from(["plain", "nul", "huge cell", "encoding", "semicolon", "no header", "too many rows",
                                 "hostile cells", "many columns", "quotes", "cr only", "bom", "shared member"]))
    cells = draw(st.lists(hostile_text(), min_size=1, max_size=3)) * 4  # as many cells as columns, or more
    huge = draw(st.sampled_from([200_000, 2_000_000]))
    encoding = draw(st.sampled_from(["utf-16", "latin-1", "shift_jis", "cp1252", "utf-32"]))

    def make(members: dict[str, bytes]) -> bytes:
        rows, first = rows_for(members, face_set), next(iter(members))
        text = {
            "nul": lambda: manifest(rows).replace(",", ",\x00", 1),
            "huge cell": lambda: manifest(rows + [["demo", "x.jpg", repeated("A", huge)]]),
            "semicolon": lambda: manifest(rows, ";"),
            "no header": lambda: manifest(rows, header=None),
            "too many rows": lambda: manifest([["demo", first, ""] + [""] * 4] * 6000),
            "hostile cells": lambda: manifest(rows + [cells]),
            "many columns": lambda: manifest(rows, header=list(COLUMNS) + [f"c{i}" for i in range(5000)]),
            "quotes": lambda: manifest(rows) + '"demo,"unbalanced\n',
            "cr only": lambda: manifest(rows).replace("\r\n", "\r"),
            "bom": lambda: "\ufeff" + manifest(rows),
            "shared member": lambda: manifest([["demo", first, f"SHARED-{i}"] + [""] * 4 for i in range(50)]),
        }.get(kind, lambda: manifest(rows))()
        if kind == "encoding":
            extra = ["demo", first, "ENC-1", "", "", "CI", "Zoë Ñúñez 山田"]
            return manifest(rows + [extra]).encode(encoding, "replace")
        return encode_text(text)

    return make
