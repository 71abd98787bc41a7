"""batch uploads stored once, pictures once per member

Revision ID: c0a1e5510004
Revises: c0a1e5510003
Create Date: 2026-11-27 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e5510004'
down_revision = 'c0a1e5510003'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
