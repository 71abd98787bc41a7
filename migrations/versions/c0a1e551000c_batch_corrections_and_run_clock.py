"""batch corrections on the review page, and the clock of a job's sending time

Revision ID: c0a1e551000c
Revises: c0a1e551000a
Create Date: 2026-11-27 14:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e551000c'
down_revision = 'c0a1e551000a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('face_set_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('run_seconds', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('run_started', sa.Float(), nullable=True))
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cells', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.drop_column('cells')
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.drop_column('run_started')
        batch_op.drop_column('run_seconds')
        batch_op.drop_column('face_set_id')
