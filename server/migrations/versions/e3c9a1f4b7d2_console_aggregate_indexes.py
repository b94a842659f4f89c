"""indexes for the console's aggregates: undecided-case counts, the rolls per region, reminders per step

Revision ID: e3c9a1f4b7d2
Revises: 8e3f2a6c1d57
Create Date: 2026-12-01 11:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'e3c9a1f4b7d2'
down_revision = '8e3f2a6c1d57'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.create_index(
            'ix_review_case_undecided_counts',
            ['region_code', 'kind', 'due_on', 'created_at'],
            unique=False,
            postgresql_where=sa.text("state IN ('open', 'extended')"),
        )
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.create_index(
            'ix_beneficiary_rolls',
            ['village_code'],
            unique=False,
            postgresql_include=['status', 'program', 'created_at', 'terminated_on', 'id'],
        )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        # The new index leads with cycle_id, so it serves every lookup the old one did.
        batch_op.drop_index(batch_op.f('ix_notification_cycle_id'))
        batch_op.create_index('ix_notification_cycle_step_state', ['cycle_id', 'step', 'state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_cycle_step_state')
        batch_op.create_index(batch_op.f('ix_notification_cycle_id'), ['cycle_id'], unique=False)
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index('ix_beneficiary_rolls')
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_index('ix_review_case_undecided_counts')
