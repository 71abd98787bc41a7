"""batch duplicate check: a job may search the face set before each row, and a held row names its match

Revision ID: c0a1e551000b
Revises: c0a1e5510008
Create Date: 2026-11-27 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e551000b'
down_revision = 'c0a1e5510008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('check_duplicates', sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_register_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('checked', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.drop_column('checked')
        batch_op.drop_column('match_register_id')
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.drop_column('check_duplicates')
