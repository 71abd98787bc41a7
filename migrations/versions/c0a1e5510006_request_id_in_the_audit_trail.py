"""request id in the audit trail

Revision ID: c0a1e5510006
Revises: c0a1e5510005
Create Date: 2026-11-27 11:45:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e5510006'
down_revision = 'c0a1e5510005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vendor_calls', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_vendor_calls_request_id'), ['request_id'], unique=False)


def downgrade():
    with op.batch_alter_table('vendor_calls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vendor_calls_request_id'))
        batch_op.drop_column('request_id')
