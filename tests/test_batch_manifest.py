"""A batch upload's rows as manifest.py plans them, without HTTP or the face engine: the problems of each
row by column, and the uploads refused as a whole. (The database holds only the face-set catalogue and
the register.) No picture is read here, so the pictures are a few bytes each."""
from __future__ import annotations

import io
import re
import zipfile

import pytest

from facesite.batch.limits import ManifestError, UploadLimits
from facesite.batch.manifest import plan_upload
from facesite.extensions import db
from facesite.models import Enrolment
from tests.support import make_app
from tests.support.batch_files import make_manifest, make_zip

LIMITS = UploadLimits(rows=10, members=50, uncompressed_bytes=10_000_000, compression_ratio=200,
                      picture_bytes=1000, manifest_bytes=100_000, quota_bytes=10_000_000)
PICTURE = bytes(range(256))  # compresses badly, like a photo


@pytest.fixture(autouse=True)
def database():
    app = make_app("http://127.0.0.1:9", SANDBOX_MODE=False)  # "demo" and "1" are in its catalogue
    with app.app_context():
        yield app


def plan(files: dict[str, bytes], rows: list[dict] | None, face_set: str | None = "demo", limits=LIMITS):
    archive = zipfile.ZipFile(io.BytesIO(make_zip(files)))
    return plan_upload(archive, None if rows is None else make_manifest(rows), face_set, limits)


def problems(files: dict[str, bytes], rows: list[dict], face_set: str | None = "demo") -> dict[int, list]:
    """Each row's problems by its row number (as a spreadsheet numbers it: the header is row 1)."""
    return {row.row_number: row.problems for row in plan(files, rows, face_set).rows}


def test_a_good_row_has_no_problem_and_names_its_picture():
    found = plan({"photos/a.jpg": PICTURE}, [{"faceImage": "A.JPG", "country": "Indonesia", "name": "Ana"}])
    [row] = found.rows
    assert row.problems == [] and row.member == "photos/a.jpg"  # another folder, other capitals, but only one
    assert (row.fields["faceSetId"], row.fields["country"]) == ("demo", "ID")
    assert found.source == "the uploaded manifest" and found.ready == [row]


def test_fields_longer_than_the_vendor_takes_are_refused_by_column():
    found = problems({"a.jpg": PICTURE}, [{"faceImage": "a.jpg", "name": "n" * 129, "idNumber": "1" * 65,
                                           "idCardType": "KTP", "externalReferenceId": "r" * 128}])
    # in the manifest's column order, as staff read the row
    assert found == {2: [("idNumber", "longer than 64 characters"), ("name", "longer than 128 characters")]}


def test_a_country_that_is_not_iso_3166_is_refused():
    found = problems({"a.jpg": PICTURE}, [{"faceImage": "a.jpg", "country": "Narnia"}])
    assert found == {2: [("country", "'Narnia' is not an ISO 3166-1 country: pick one from the list or type "
                                     "its two-letter code.")]}


def test_missing_empty_and_ambiguous_pictures_are_refused():
    files = {"a.jpg": PICTURE, "one/b.jpg": PICTURE, "two/b.jpg": PICTURE, "big.jpg": PICTURE * 4}
    found = problems(files, [{"faceImage": "missing.jpg"}, {"faceImage": "", "name": "Ana"}, {"faceImage": "b.jpg"},
                             {"faceImage": "big.jpg"}])
    assert found[2] == [("faceImage", "there is no file “missing.jpg” in the ZIP")]
    assert found[3] == [("faceImage", "empty: give the picture's file name inside the ZIP")]
    assert found[4] == [("faceImage", "“b.jpg” matches several files: one/b.jpg, two/b.jpg")]
    assert found[5] == [("faceImage", "1,024 bytes is larger than a batch photo may be (1,000 bytes, "
                                      "BATCH_MAX_PICTURE_MB)")]


def test_a_reference_twice_in_one_face_set_is_refused_on_its_second_row():
    rows = [{"faceImage": "a.jpg", "externalReferenceId": "X-1"},
            {"faceImage": "a.jpg", "externalReferenceId": "X-1", "faceSetId": "1"},  # another face set: fine
            {"faceImage": "a.jpg", "externalReferenceId": "X-1"}]
    found = problems({"a.jpg": PICTURE}, rows)
    assert found == {2: [], 3: [], 4: [("externalReferenceId", "“X-1” is also on row 2")]}


def test_a_reference_already_in_the_register_is_refused():
    db.session.add(Enrolment(face_set_id="demo", face_id="f-1", external_reference_id="EMP-7", enrolled_by="otto"))
    db.session.commit()
    found = problems({"a.jpg": PICTURE}, [{"faceImage": "a.jpg", "externalReferenceId": "EMP-7"}])
    [(column, message)] = found[2]
    assert column == "externalReferenceId" and message.startswith("“EMP-7” is already enrolled in this face set")


def test_face_sets_not_in_the_catalogue_or_missing_are_refused():
    found = problems({"a.jpg": PICTURE}, [{"faceImage": "a.jpg", "faceSetId": "nowhere"}, {"faceImage": "a.jpg"}],
                     face_set=None)
    assert found[2][0][0] == "faceSetId" and "nowhere" in found[2][0][1]
    assert found[3] == [("faceSetId", "empty: fill it in, or choose a face set on the form")]


def test_a_value_under_no_column_is_a_problem_of_its_row():
    archive = zipfile.ZipFile(io.BytesIO(make_zip({"x.jpg": PICTURE})))
    found = plan_upload(archive, b"faceImage,name,,\nx.jpg,Ana,,\nx.jpg,Bo,,stray\n", "demo", LIMITS)
    assert [row.problems for row in found.rows] == [
        [], [("—", "this row has a value in a column without a name in the first row")]]


def test_without_a_manifest_every_picture_is_a_row_named_after_its_file():
    found = plan({"Maria Santos.jpg": PICTURE, "team/budi.png": PICTURE, "readme.txt": b"x",
                  "__MACOSX/._Maria Santos.jpg": b"junk", ".DS_Store": b"junk"}, None)
    assert [(row.fields["name"], row.member) for row in found.rows] == [("Maria Santos", "Maria Santos.jpg"),
                                                                         ("budi", "team/budi.png")]
    assert found.ignored == ["readme.txt"] and found.source == "the file names in the ZIP (no manifest)"


@pytest.mark.parametrize("manifest, message", [
    (b"faceImage,Nickname\na.jpg,x\n", "unknown column “Nickname”"),
    (b"faceImage,name,Name\na.jpg,x,y\n", "the column name appears twice"),
    (b"name\nx\n", "the column faceImage (the picture's file name inside the ZIP) is missing"),
    (b"", "The manifest is empty"),
    (b"faceImage\n", "There is nothing to enrol"),
])
def test_a_manifest_that_cannot_be_planned_is_refused_as_a_whole(manifest, message):
    archive = zipfile.ZipFile(io.BytesIO(make_zip({"a.jpg": PICTURE})))
    with pytest.raises(ManifestError, match=re.escape(message)):
        plan_upload(archive, manifest, "demo", LIMITS)


def test_more_rows_than_a_batch_may_hold_are_refused():
    with pytest.raises(ManifestError, match="more than 10 rows"):
        plan({"a.jpg": PICTURE}, [{"faceImage": "a.jpg"}] * 11)
