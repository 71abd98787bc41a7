"""ID number look-up hash in the register

Revision ID: c0a1e5510009
Revises: c0a1e5510007
Create Date: 2026-11-27 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e5510009'
down_revision = 'c0a1e5510007'
branch_labels = None
depends_on = None


def upgrade():
    # Entries enrolled before this have no hash (their full number was never kept): a look-up cannot find them.
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_number_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_enrolments_id_number_hash'), ['id_number_hash'], unique=False)


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolments_id_number_hash'))
        batch_op.drop_column('id_number_hash')
