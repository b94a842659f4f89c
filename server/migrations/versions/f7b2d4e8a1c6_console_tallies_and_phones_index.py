"""the console's tallies (a cycle's status, coverage per period, counted per village) and the phones index

Revision ID: f7b2d4e8a1c6
Revises: b7d4e2a9c531
Create Date: 2026-12-01 14:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'f7b2d4e8a1c6'
down_revision = 'b7d4e2a9c531'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'tally',
        sa.Column('report', sa.String(length=32), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('region_code', sa.String(length=12), nullable=False),
        sa.Column('counts', sa.JSON(), nullable=False),
        sa.Column('counted_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('report', 'key', 'region_code', name=op.f('pk_tally')),
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index('ix_device_created_at', ['created_at', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index('ix_device_created_at')
    op.drop_table('tally')
