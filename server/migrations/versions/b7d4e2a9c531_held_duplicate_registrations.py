"""held duplicate registrations: beneficiary.duplicate_of, the ID number unique among records not held,
duplicate_registration cases and their transfer/refuse decisions

Revision ID: b7d4e2a9c531
Revises: e3c9a1f4b7d2
Create Date: 2026-12-01 14:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'b7d4e2a9c531'
down_revision = 'e3c9a1f4b7d2'
branch_labels = None
depends_on = None

CASE_KINDS = (
    'missed_checkin', 'failed_checkins', 'duplicate_face', 'location_anomaly', 'visit_finding', 'death_record',
    'template_change', 'consent_withdrawn',
)
CASE_STATES = ('open', 'suspended', 'extended', 'exempted', 'dismissed', 'reinstated', 'terminated', 'restored')
DECISION_KINDS = ('suspend', 'terminate', 'extend', 'exempt', 'order_visit', 'dismiss', 'restore')
NOT_HELD = sa.text('duplicate_of IS NULL')
HELD = sa.text('duplicate_of IS NOT NULL')


def upgrade() -> None:
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duplicate_of', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_beneficiary_duplicate_of_beneficiary'), 'beneficiary', ['duplicate_of'], ['id']
        )
        batch_op.drop_constraint(batch_op.f('uq_beneficiary_id_number_index'), type_='unique')
        batch_op.create_index(
            'uq_beneficiary_id_number_index',
            ['id_number_index'],
            unique=True,
            postgresql_where=NOT_HELD,
            sqlite_where=NOT_HELD,
        )
        batch_op.create_index(
            'ix_beneficiary_held', ['id_number_index'], unique=False, postgresql_where=HELD, sqlite_where=HELD
        )
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_review_case_casekind'), type_='check')
        batch_op.create_check_constraint('casekind', sa.column('kind').in_(CASE_KINDS + ('duplicate_registration',)))
        batch_op.drop_constraint(batch_op.f('ck_review_case_casestate'), type_='check')
        batch_op.create_check_constraint('casestate', sa.column('state').in_(CASE_STATES + ('transferred', 'refused')))
    with op.batch_alter_table('case_decision', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_case_decision_decisionkind'), type_='check')
        batch_op.create_check_constraint(
            'decisionkind', sa.column('decision').in_(DECISION_KINDS + ('transfer', 'refuse'))
        )


def downgrade() -> None:
    with op.batch_alter_table('case_decision', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_case_decision_decisionkind'), type_='check')
        batch_op.create_check_constraint('decisionkind', sa.column('decision').in_(DECISION_KINDS))
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_review_case_casestate'), type_='check')
        batch_op.create_check_constraint('casestate', sa.column('state').in_(CASE_STATES))
        batch_op.drop_constraint(batch_op.f('ck_review_case_casekind'), type_='check')
        batch_op.create_check_constraint('casekind', sa.column('kind').in_(CASE_KINDS))
    # Held records cannot survive a unique ID number: the downgrade drops them with their cases' history.
    op.execute(
        "DELETE FROM case_decision WHERE case_id IN (SELECT id FROM review_case WHERE kind = 'duplicate_registration')"
    )
    op.execute("DELETE FROM review_case WHERE kind = 'duplicate_registration'")
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index('ix_beneficiary_held')
        batch_op.drop_index('uq_beneficiary_id_number_index')
        batch_op.create_unique_constraint(batch_op.f('uq_beneficiary_id_number_index'), ['id_number_index'])
        batch_op.drop_constraint(batch_op.f('fk_beneficiary_duplicate_of_beneficiary'), type_='foreignkey')
        batch_op.drop_column('duplicate_of')
