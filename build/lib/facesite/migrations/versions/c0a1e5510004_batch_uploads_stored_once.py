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
    op.create_table('batch_pictures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('member', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('data', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['batch_jobs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('batch_pictures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_pictures_job_id'), ['job_id'], unique=False)

    op.create_table('batch_upload_chunks',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['batch_jobs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('job_id', 'seq')
    )
    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('archive_size', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('picture_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_batch_rows_picture_id'), ['picture_id'], unique=False)
        batch_op.create_foreign_key('fk_batch_rows_picture_id_batch_pictures', 'batch_pictures', ['picture_id'], ['id'],
                                    ondelete='SET NULL')

    _move_row_pictures()

    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.drop_column('picture')


def _move_row_pictures():
    """Pictures kept on rows (rows waiting to be sent, retried or resent) become one batch_pictures row per
    file name and job: rows of one job that name the same file were copied from the same ZIP member,
    so they held the same bytes. One picture in memory at a time."""
    connection = op.get_bind()
    rows = sa.table('batch_rows', sa.column('id'), sa.column('job_id'), sa.column('file_name'),
                    sa.column('picture', sa.LargeBinary), sa.column('picture_id'))
    pictures = sa.Table('batch_pictures', sa.MetaData(), sa.Column('id', sa.Integer, primary_key=True),
                        sa.Column('job_id', sa.Integer), sa.Column('member', sa.Text), sa.Column('size', sa.Integer),
                        sa.Column('data', sa.LargeBinary))
    kept = connection.execute(sa.select(rows.c.job_id, rows.c.file_name).where(rows.c.picture.is_not(None))
                              .group_by(rows.c.job_id, rows.c.file_name)).all()
    for job_id, file_name in kept:
        same = (rows.c.job_id == job_id, rows.c.file_name == file_name, rows.c.picture.is_not(None))
        data = connection.scalar(sa.select(rows.c.picture).where(*same).limit(1))
        picture_id = connection.execute(sa.insert(pictures).values(job_id=job_id, member=file_name, size=len(data),
                                                                   data=data)).inserted_primary_key[0]
        connection.execute(sa.update(rows).where(*same).values(picture_id=picture_id))
    # A job caught in the middle of its check has no stored ZIP to check from: its rows go ahead unchecked,
    # and a picture that is not fit is refused when its row is sent (that row fails, saying why).
    connection.execute(sa.text("UPDATE batch_rows SET state = 'pending' WHERE state = 'unchecked'"))
    connection.execute(sa.text("UPDATE batch_jobs SET state = 'review' WHERE state = 'checking'"))


def downgrade():
    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('picture', sa.LargeBinary(), nullable=True))

    connection = op.get_bind()
    connection.execute(sa.text(
        "UPDATE batch_rows SET picture = (SELECT data FROM batch_pictures"
        " WHERE batch_pictures.id = batch_rows.picture_id)"
        " WHERE picture_id IS NOT NULL"))

    with op.batch_alter_table('batch_rows', schema=None) as batch_op:
        batch_op.drop_constraint('fk_batch_rows_picture_id_batch_pictures', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_batch_rows_picture_id'))
        batch_op.drop_column('picture_id')

    with op.batch_alter_table('batch_jobs', schema=None) as batch_op:
        batch_op.drop_column('archive_size')
        batch_op.drop_column('paused_at')

    op.drop_table('batch_upload_chunks')
    with op.batch_alter_table('batch_pictures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_pictures_job_id'))

    op.drop_table('batch_pictures')
