"""each person's last face set

Revision ID: c0a1e551000a
Revises: c0a1e5510009
Create Date: 2026-11-27 14:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e551000a'
down_revision = 'c0a1e5510009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_face_set_id', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_face_set_id')
