"""moved deadlines in a cycle, withdrawn biometric consent, consent_withdrawn cases

Revision ID: 5e1c0a7d9b42
Revises: 170f14758600
Create Date: 2026-12-01 11:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = '5e1c0a7d9b42'
down_revision = '170f14758600'
branch_labels = None
depends_on = None

CASE_KINDS = (
    'missed_checkin', 'failed_checkins', 'duplicate_face', 'location_anomaly', 'visit_finding', 'death_record',
    'template_change',
)


def upgrade() -> None:
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moved_until', sa.Date(), nullable=True))
    with op.batch_alter_table('biometric_consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_review_case_casekind'), type_='check')
        batch_op.create_check_constraint('casekind', sa.column('kind').in_(CASE_KINDS + ('consent_withdrawn',)))


def downgrade() -> None:
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_review_case_casekind'), type_='check')
        batch_op.create_check_constraint('casekind', sa.column('kind').in_(CASE_KINDS))
    with op.batch_alter_table('biometric_consent', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
    with op.batch_alter_table('cycle', schema=None) as batch_op:
        batch_op.drop_column('moved_until')
