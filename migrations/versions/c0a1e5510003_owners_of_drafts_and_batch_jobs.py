"""owners of drafts and batch jobs

Revision ID: c0a1e5510003
Revises: c0a1e5510002
Create Date: 2026-11-27 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e5510003'
down_revision = 'c0a1e5510002'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
