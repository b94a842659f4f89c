"""review_case: one (state, due_on) index for the queue instead of kind, state and region_code indexes

Revision ID: 5b1e7c2a9d40
Revises: ef6feb79cd5a
Create Date: 2026-11-23 17:20:00
"""

from alembic import op


revision = '5b1e7c2a9d40'
down_revision = 'ef6feb79cd5a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_case_kind'))
        batch_op.drop_index(batch_op.f('ix_review_case_state'))
        batch_op.drop_index(batch_op.f('ix_review_case_region_code'))
        batch_op.create_index('ix_review_case_state_due_on', ['state', 'due_on'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_index('ix_review_case_state_due_on')
        batch_op.create_index(batch_op.f('ix_review_case_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_case_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_case_kind'), ['kind'], unique=False)
