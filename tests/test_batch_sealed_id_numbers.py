"""Issue 24, item 6: a batch row's ID number is kept sealed until the row is sent, never in clear in the
database (neither its own column nor the cells kept for corrections), and still corrects and sends."""
from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

from facesite.config import settings
from facesite.extensions import db
from facesite.models import BatchRow
from tests.support import face, sign_in
from tests.support.batch_files import make_zip
from tests.test_batch import BatchPage
from tests.test_batch_corrections import fix, rows

ANA, BO = "3171234567890001", "3171234567890002"


def database_files(app) -> list[Path]:
    path = Path(settings(app).sqlalchemy_database_uri.removeprefix("sqlite:///"))
    return [file for file in (path, Path(f"{path}-wal")) if file.exists()]


def test_a_batch_keeps_id_numbers_sealed_and_still_corrects_and_sends_them(app, face_set, sandbox):
    batch = BatchPage(sign_in(app.test_client()))
    manifest = f"faceImage,name,idNumber,\nx.jpg,Ana,{ANA},\nx.jpg,Bo,{BO},stray\n".encode()
    job_id = batch.job_id(batch.upload(make_zip({"x.jpg": face("biden.jpg")}), manifest, face_set=face_set))

    for row in rows(app, job_id).values():
        assert row.id_number and ANA not in row.id_number and BO not in row.id_number
        assert "idNumber" not in json.loads(row.cells)
    for file in database_files(app):
        data = file.read_bytes()
        assert ANA.encode() not in data and BO.encode() not in data, file

    fixed = fix(batch, job_id, rows(app, job_id)[3], unnamed="").get_data(as_text=True)
    assert "Row 3 is ready to send now." in fixed  # corrected with its sealed number put back among its cells
    assert "idNumber" not in json.loads(rows(app, job_id)[3].cells)

    batch.act(job_id, "start")
    batch.wait(job_id)
    with closing(sandbox.store._connect()) as vendor:
        sent = {name: number for name, number in
                vendor.execute("SELECT name, id_number FROM faces WHERE face_set_id = ?", (face_set,))}
    assert sent == {"Ana": ANA, "Bo": BO}  # the vendor got each number in full
    assert all(row.id_number is None and row.cells is None for row in rows(app, job_id).values())


def test_a_row_refused_for_good_lets_go_of_its_sealed_number_when_the_job_starts(app, face_set):
    batch = BatchPage(sign_in(app.test_client()))
    manifest = f"faceImage,name,idNumber,\nx.jpg,Ana,{ANA},\nx.jpg,Bo,{BO},stray\n".encode()
    job_id = batch.job_id(batch.upload(make_zip({"x.jpg": face("biden.jpg")}), manifest, face_set=face_set))
    batch.act(job_id, "start")
    batch.wait(job_id)
    with app.app_context():
        kept = db.session.scalars(db.select(BatchRow.id_number).where(BatchRow.job_id == job_id)).all()
    assert kept == [None, None]


def test_the_migration_seals_what_batches_kept_in_clear(sandbox):
    from flask_migrate import upgrade

    from facesite.app import MIGRATIONS, create_app
    from facesite.id_numbers import unseal_for_batch
    from tests.support import portal_settings

    app = create_app(portal_settings({"MIGRATE_ON_START": "0"}, ADVANCE_BASE_URL=sandbox.url))
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="c0a1e551000b")
        with db.engine.begin() as connection:
            connection.execute(db.text("INSERT INTO batch_jobs (id, created_at, created_by, archive_name, state, "
                                       "check_duplicates) VALUES (1, '2026-12-01', 'otto', 'people.zip', 'review', 0)"))
            for row_id, number, cells in ((1, ANA, {"name": "Ana", "idNumber": ANA}),  # sendable: both places
                                          (2, None, {"name": "Bo", "idNumber": BO, "—": "stray"})):  # refused
                connection.execute(db.text(
                    "INSERT INTO batch_rows (id, job_id, row_number, file_name, id_number, state, attempts, checked, "
                    "cells) VALUES (:id, 1, :row, 'x.jpg', :number, 'pending', 0, 0, :cells)"),
                    {"id": row_id, "row": row_id + 1, "number": number, "cells": json.dumps(cells)})
        upgrade(directory=MIGRATIONS)
        kept = {row.id: row for row in db.session.scalars(db.select(BatchRow))}
        assert {row_id: unseal_for_batch(row.id_number) for row_id, row in kept.items()} == {1: ANA, 2: BO}
        assert [json.loads(row.cells) for row in kept.values()] == [{"name": "Ana"}, {"name": "Bo", "—": "stray"}]
        for row in kept.values():
            assert ANA not in row.id_number and BO not in row.id_number
