"""Batch uploads made in the tests: ZIPs of generated pictures and their CSV manifests."""
from __future__ import annotations

import csv
import io
import zipfile

from PIL import Image, ImageOps

from tests.support import face
from tests.support.pictures import encode, plain, sample, truncated

MANIFEST_COLUMNS = ("faceSetId", "faceImage", "externalReferenceId", "idNumber", "idCardType", "country", "name")


def make_zip(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def make_manifest(rows: list[dict], columns=MANIFEST_COLUMNS, delimiter=",") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def read_csv(data: bytes) -> list[dict]:
    """The rows of a CSV file the portal gave for download: it must start with a UTF-8 byte-order mark,
    without which Excel on Windows garbles every non-ASCII character ("••••", accents)."""
    assert data.startswith(b"\xef\xbb\xbf"), data[:20]
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _scaled(name: str, width: int, mirror: bool = False, fmt: str = "JPEG") -> bytes:
    image = Image.open(io.BytesIO(face(name))).convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)))
    return encode(ImageOps.mirror(image) if mirror else image, fmt)


def mixed_batch(face_set_id: str, size: int = 50) -> tuple[bytes, bytes, dict[int, str]]:
    """A ZIP and manifest of ``size`` rows: faces (in several formats and sizes), pictures with no
    face, pictures too small and broken files; and the result expected for each row number."""
    files, rows, expected = {}, [], {}
    kinds = ["face", "face", "face", "face", "face", "face", "noface", "small", "broken", "face"]
    for index in range(size):
        kind = kinds[index % len(kinds)]
        person = ("obama.jpg", "biden.jpg", "obama2.jpg")[index % 3]
        if kind == "face":
            fmt = ("JPEG", "PNG", "JPEG", "WEBP")[index % 4]
            data = _scaled(person, 420 + 20 * (index % 5), mirror=index % 2 == 1, fmt=fmt)
            name, result = f"people/person-{index:03}.{fmt.lower().replace('jpeg', 'jpg')}", "done"
        elif kind == "noface":
            data = sample("coffee") if index % 2 else plain(400, 400)
            name, result = f"people/empty-{index:03}.jpg", "failed"
        elif kind == "small":
            data = _scaled(person, 200)
            name, result = f"people/small-{index:03}.jpg", "skipped"
        else:
            data = truncated(_scaled(person, 500), 0.4)
            name, result = f"people/broken-{index:03}.jpg", "skipped"
        files[name] = data
        rows.append({"faceSetId": face_set_id, "faceImage": name, "externalReferenceId": f"REF-{index:04}",
                     "idNumber": f"32010000{index:08}", "idCardType": "KTP", "country": ("ID", "Indonesia", "")[index % 3],
                     "name": f"Person {index}"})
        expected[index + 2] = result  # row 1 is the header
    return make_zip(files), make_manifest(rows), expected
