"""cycles, exemptions, evidence, notifications

Revision ID: ef6feb79cd5a
Revises: 911725f2711f
Create Date: 2026-11-23 16:28:48.692055
"""

from alembic import op
import sqlalchemy as sa


revision = 'ef6feb79cd5a'
down_revision = '911725f2711f'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cycle',
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('program', sa.Enum('urban_minimum_allowance', 'rural_minimum_allowance', 'destitute_dispersed', 'destitute_concentrated', 'orphan', 'temporary_assistance', name='program', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('frequency', sa.Enum('monthly', 'quarterly', 'yearly', name='cyclefrequency', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('grace_days', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('swept_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_cycle_created_by_staff_user')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_cycle_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle')),
    sa.UniqueConstraint('region_code', 'program', 'opens_on', name=op.f('uq_cycle_region_code'), postgresql_nulls_not_distinct=True)
    )
    op.create_index(op.f('ix_cycle_deadline'), 'cycle', ['deadline'], unique=False)
    op.create_index(op.f('ix_cycle_region_code'), 'cycle', ['region_code'], unique=False)
    op.create_table('cycle_evidence',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('cycle_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('reference', sa.String(length=128), nullable=False),
    sa.Column('imported_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_cycle_evidence_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_cycle_evidence_cycle_id_cycle')),
    sa.ForeignKeyConstraint(['imported_by'], ['staff_user.id'], name=op.f('fk_cycle_evidence_imported_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_evidence')),
    sa.UniqueConstraint('beneficiary_id', 'cycle_id', 'source', 'reference', name=op.f('uq_cycle_evidence_beneficiary_id'))
    )
    op.create_index(op.f('ix_cycle_evidence_beneficiary_id'), 'cycle_evidence', ['beneficiary_id'], unique=False)
    op.create_index(op.f('ix_cycle_evidence_cycle_id'), 'cycle_evidence', ['cycle_id'], unique=False)
    op.create_table('exemption',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('institution_care', 'hospitalisation', 'work_absence', name='exemptionkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.Text(), nullable=True),
    sa.Column('approved_by', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['staff_user.id'], name=op.f('fk_exemption_approved_by_staff_user')),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_exemption_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_exemption_case_id_review_case')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exemption'))
    )
    op.create_index(op.f('ix_exemption_beneficiary_id'), 'exemption', ['beneficiary_id'], unique=False)
    op.create_table('notification',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('cycle_id', sa.Uuid(), nullable=False),
    sa.Column('step', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('state', sa.Enum('pending', 'sent', 'failed', name='notificationstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_notification_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle.id'], name=op.f('fk_notification_cycle_id_cycle')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('beneficiary_id', 'cycle_id', 'step', name=op.f('uq_notification_beneficiary_id'))
    )
    op.create_index(op.f('ix_notification_beneficiary_id'), 'notification', ['beneficiary_id'], unique=False)
    op.create_index(op.f('ix_notification_cycle_id'), 'notification', ['cycle_id'], unique=False)
    op.create_index(op.f('ix_notification_state'), 'notification', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_notification_state'), table_name='notification')
    op.drop_index(op.f('ix_notification_cycle_id'), table_name='notification')
    op.drop_index(op.f('ix_notification_beneficiary_id'), table_name='notification')
    op.drop_table('notification')
    op.drop_index(op.f('ix_exemption_beneficiary_id'), table_name='exemption')
    op.drop_table('exemption')
    op.drop_index(op.f('ix_cycle_evidence_cycle_id'), table_name='cycle_evidence')
    op.drop_index(op.f('ix_cycle_evidence_beneficiary_id'), table_name='cycle_evidence')
    op.drop_table('cycle_evidence')
    op.drop_index(op.f('ix_cycle_region_code'), table_name='cycle')
    op.drop_index(op.f('ix_cycle_deadline'), table_name='cycle')
    op.drop_table('cycle')
