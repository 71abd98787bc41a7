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
    # Nullable: drafts kept before this change have no owner, so only administrators can read them
    # until DRAFT_MAX_AGE_HOURS sweeps them away; older jobs fall back to their creator.
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner', sa.String(length=254), nullable=True))
        batch_op.create_index(batch_op.f('ix_drafts_owner'), ['owner'], unique=False)

    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('started_by', sa.String(length=254), nullable=True))


def downgrade():
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.drop_column('started_by')

    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_drafts_owner'))
        batch_op.drop_column('owner')
