"""notices answering an appeal the office turned down: suspension_upheld and termination_upheld

Revision ID: a9d3c6e2f814
Revises: f7b2d4e8a1c6
Create Date: 2026-12-01 17:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'a9d3c6e2f814'
down_revision = 'f7b2d4e8a1c6'
branch_labels = None
depends_on = None

NOTICE_KINDS = ('suspension', 'termination')
UPHELD = ('suspension_upheld', 'termination_upheld')


def upgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notice_noticekind'), type_='check')
        batch_op.create_check_constraint('noticekind', sa.column('kind').in_(NOTICE_KINDS + UPHELD))


def downgrade() -> None:
    # The answers go with the kinds; the decisions they answered keep their own notices.
    op.execute(sa.text("DELETE FROM notice WHERE kind IN ('suspension_upheld', 'termination_upheld')"))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_notice_noticekind'), type_='check')
        batch_op.create_check_constraint('noticekind', sa.column('kind').in_(NOTICE_KINDS))
