"""a check-in's frames stored as one object: each frame's byte range in it

Revision ID: b4e7f2a9c1d5
Revises: a9d3c6e2f814
Create Date: 2026-12-02 05:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'b4e7f2a9c1d5'
down_revision = 'a9d3c6e2f814'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checkin_frame', schema=None) as batch_op:
        batch_op.add_column(sa.Column('byte_offset', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('byte_length', sa.Integer(), nullable=True))


def downgrade() -> None:
    # Without the ranges, every frame of a bundled check-in would read as the whole bundle.
    bundled = op.get_bind().execute(sa.text("SELECT count(*) FROM checkin_frame WHERE byte_offset IS NOT NULL"))
    if bundled.scalar():
        raise RuntimeError("check-in frames are stored in bundles, which the earlier schema cannot read")
    with op.batch_alter_table('checkin_frame', schema=None) as batch_op:
        batch_op.drop_column('byte_length')
        batch_op.drop_column('byte_offset')
