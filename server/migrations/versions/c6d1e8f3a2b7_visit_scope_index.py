"""visits: one index of both scope columns, for the lists' bounded count (replaces the visited village's own)

Revision ID: c6d1e8f3a2b7
Revises: b4e7f2a9c1d5
Create Date: 2026-12-02 05:45:00
"""

from alembic import op


revision = 'c6d1e8f3a2b7'
down_revision = 'b4e7f2a9c1d5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index('ix_visit_scope', ['region_code', 'worker_region_code'], unique=False)
        batch_op.drop_index(batch_op.f('ix_visit_region_code'))


def downgrade() -> None:
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_region_code'), ['region_code'], unique=False)
        batch_op.drop_index('ix_visit_scope')
