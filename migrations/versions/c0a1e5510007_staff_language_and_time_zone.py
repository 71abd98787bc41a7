"""staff language and time zone

Revision ID: c0a1e5510007
Revises: c0a1e5510006
Create Date: 2026-11-27 11:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e5510007'
down_revision = 'c0a1e5510006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
        batch_op.drop_column('locale')
