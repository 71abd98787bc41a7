"""server-side sessions and the sign-in throttle

Revision ID: c0a1e5510001
Revises: 1e8e0decf759
Create Date: 2026-11-27 05:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e5510001'
down_revision = '1e8e0decf759'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
