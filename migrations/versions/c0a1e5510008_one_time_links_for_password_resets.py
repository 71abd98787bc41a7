"""one-time links: the first administrator's table also holds password reset links

Revision ID: c0a1e5510008
Revises: c0a1e551000c
Create Date: 2026-11-27 14:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e5510008'
down_revision = 'c0a1e551000c'
branch_labels = None
depends_on = None


def upgrade():
    op.rename_table('setup_tokens', 'one_time_links')
    with op.batch_alter_table('one_time_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.String(length=16), server_default='setup', nullable=False))
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('made_by', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_one_time_links_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key('fk_one_time_links_user_id_users', 'users', ['user_id'], ['id'],
                                    ondelete='CASCADE')


def downgrade():
    op.execute("DELETE FROM one_time_links WHERE purpose != 'setup'")
    with op.batch_alter_table('one_time_links', schema=None) as batch_op:
        batch_op.drop_constraint('fk_one_time_links_user_id_users', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_one_time_links_user_id'))
        batch_op.drop_column('created_at')
        batch_op.drop_column('made_by')
        batch_op.drop_column('user_id')
        batch_op.drop_column('purpose')
    op.rename_table('one_time_links', 'setup_tokens')
