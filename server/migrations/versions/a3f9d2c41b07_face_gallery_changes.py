"""face_gallery_version and face_gallery_change: what an in-memory gallery reads to stay current

Revision ID: a3f9d2c41b07
Revises: 2d01c19df012
Create Date: 2026-12-01 11:30:00
"""

import uuid

import sqlalchemy as sa
from alembic import op


revision = 'a3f9d2c41b07'
down_revision = '2d01c19df012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'face_gallery_version',
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('epoch', sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint('county_code', name=op.f('pk_face_gallery_version')),
    )
    # Every county with templates starts at version 0: galleries loaded from now on are kept current
    # from the log instead of being reloaded when a county's first change creates its row.
    versions = sa.table(
        'face_gallery_version', sa.column('county_code'), sa.column('version'), sa.column('epoch', sa.Uuid())
    )
    counties = op.get_bind().scalars(sa.text('SELECT DISTINCT county_code FROM face_template')).all()
    if counties:
        op.bulk_insert(versions, [{'county_code': c, 'version': 0, 'epoch': uuid.uuid4()} for c in counties])
    op.create_table(
        'face_gallery_change',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('county_code', sa.String(length=6), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.Column('template_id', sa.Uuid(), nullable=False),
        sa.Column('added', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_face_gallery_change')),
    )
    op.create_index(
        'ix_face_gallery_change_county_version', 'face_gallery_change', ['county_code', 'version'], unique=False
    )


def downgrade() -> None:
    op.drop_index('ix_face_gallery_change_county_version', table_name='face_gallery_change')
    op.drop_table('face_gallery_change')
    op.drop_table('face_gallery_version')
