"""OpenID Connect accounts: the provider's issuer and subject per account, the ID token per session

Revision ID: c0a1e5510005
Revises: c0a1e5510004
Create Date: 2026-11-27 11:40:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c0a1e5510005'
down_revision = 'c0a1e5510004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_issuer', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('identity_subject', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint('uq_users_identity', ['identity_issuer', 'identity_subject'])
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('id_token', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('id_token')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_identity', type_='unique')
        batch_op.drop_column('identity_subject')
        batch_op.drop_column('identity_issuer')
