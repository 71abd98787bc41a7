"""batch rows keep their ID number sealed, and never in their cells as uploaded

Revision ID: c0a1e5510012
Revises: c0a1e5510011
Create Date: 2026-12-07 19:00:00

"""
import json

from alembic import op
import sqlalchemy as sa

from facesite.id_numbers import seal_for_batch, unseal_for_batch


revision = 'c0a1e5510012'
down_revision = 'c0a1e5510011'
branch_labels = None
depends_on = None

rows = sa.table('batch_rows', sa.column('id', sa.Integer), sa.column('id_number', sa.Text),
                sa.column('cells', sa.Text))


def upgrade():
    # A Fernet token is longer than the 64 characters a number in clear had.
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.alter_column('id_number', existing_type=sa.String(length=64), type_=sa.Text(), existing_nullable=True)
    connection = op.get_bind()
    kept = connection.execute(sa.select(rows.c.id, rows.c.id_number, rows.c.cells).where(
        sa.or_(rows.c.id_number.is_not(None), rows.c.cells.is_not(None)))).all()
    for row_id, number, cells in kept:
        cells = json.loads(cells) if cells else None
        number = number or (cells or {}).get('idNumber')  # a refused row had it in its cells alone
        if cells is not None:
            cells.pop('idNumber', None)
        connection.execute(rows.update().where(rows.c.id == row_id).values(
            id_number=seal_for_batch(number),
            cells=json.dumps(cells, ensure_ascii=False) if cells is not None else None))


def downgrade():
    connection = op.get_bind()
    kept = connection.execute(sa.select(rows.c.id, rows.c.id_number, rows.c.cells).where(
        rows.c.id_number.is_not(None))).all()
    for row_id, sealed, cells in kept:
        number = unseal_for_batch(sealed)
        values = {'id_number': number}
        if cells and number:
            values['cells'] = json.dumps(json.loads(cells) | {'idNumber': number}, ensure_ascii=False)
        connection.execute(rows.update().where(rows.c.id == row_id).values(**values))
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.alter_column('id_number', existing_type=sa.Text(), type_=sa.String(length=64), existing_nullable=True)
