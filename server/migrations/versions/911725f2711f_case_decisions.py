"""case decisions, suspensions, notices, visit tasks, payment runs

Revision ID: 911725f2711f
Revises: d2898c55b9ce
Create Date: 2026-11-23 16:28:53.795333
"""

from alembic import op
import sqlalchemy as sa


revision = '911725f2711f'
down_revision = 'd2898c55b9ce'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payment_run',
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('total_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('total_arrears', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_payment_run_created_by_staff_user')),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_payment_run_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_run')),
    sa.UniqueConstraint('period', 'region_code', name=op.f('uq_payment_run_period'))
    )
    with op.batch_alter_table('payment_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_run_period'), ['period'], unique=False)

    op.create_table('case_decision',
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('decision', sa.Enum('suspend', 'terminate', 'extend', 'exempt', 'order_visit', 'dismiss', name='decisionkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('applied', 'pending', 'approved', 'rejected', name='decisionstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('proposed_by', sa.Uuid(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('approved_by', sa.Uuid(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejected_by', sa.Uuid(), nullable=True),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_reason', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by'], ['staff_user.id'], name=op.f('fk_case_decision_approved_by_staff_user')),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_case_decision_case_id_review_case')),
    sa.ForeignKeyConstraint(['proposed_by'], ['staff_user.id'], name=op.f('fk_case_decision_proposed_by_staff_user')),
    sa.ForeignKeyConstraint(['rejected_by'], ['staff_user.id'], name=op.f('fk_case_decision_rejected_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_decision'))
    )
    with op.batch_alter_table('case_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_decision_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_decision_status'), ['status'], unique=False)

    op.create_table('payment_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Uuid(), nullable=False),
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('category', sa.Enum('pay', 'suspended', 'reinstated_arrears', 'terminated', name='paymentcategory', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id_number_masked', sa.String(length=18), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('arrears_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('flag', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_payment_line_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['run_id'], ['payment_run.id'], name=op.f('fk_payment_line_run_id_payment_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_line')),
    sa.UniqueConstraint('run_id', 'beneficiary_id', name=op.f('uq_payment_line_run_id'))
    )
    with op.batch_alter_table('payment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_line_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_line_flag'), ['flag'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_line_period'), ['period'], unique=False)
        batch_op.create_index(batch_op.f('ix_payment_line_run_id'), ['run_id'], unique=False)

    op.create_table('visit_task',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=True),
    sa.Column('field_worker_id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Enum('open', 'done', name='visittaskstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('visit_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_visit_task_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_task_visit_id_visit')),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_visit_task_case_id_review_case')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_visit_task_created_by_staff_user')),
    sa.ForeignKeyConstraint(['field_worker_id'], ['staff_user.id'], name=op.f('fk_visit_task_field_worker_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_task'))
    )
    with op.batch_alter_table('visit_task', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_task_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_task_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_task_field_worker_id'), ['field_worker_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_task_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_task_state'), ['state'], unique=False)

    op.create_table('suspension',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('decision_id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('proposed_by', sa.Uuid(), nullable=False),
    sa.Column('approved_by', sa.Uuid(), nullable=False),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('appealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appeal_recorded_by', sa.Uuid(), nullable=True),
    sa.Column('ended_on', sa.Date(), nullable=True),
    sa.Column('end_reason', sa.Enum('reinstated', 'terminated', name='suspensionend', native_enum=False, create_constraint=True, length=32), nullable=True),
    sa.Column('ended_by', sa.Uuid(), nullable=True),
    sa.Column('arrears_months', sa.Integer(), nullable=True),
    sa.Column('arrears_amount', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.Column('arrears_paid_in_run_id', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['appeal_recorded_by'], ['staff_user.id'], name=op.f('fk_suspension_appeal_recorded_by_staff_user')),
    sa.ForeignKeyConstraint(['approved_by'], ['staff_user.id'], name=op.f('fk_suspension_approved_by_staff_user')),
    sa.ForeignKeyConstraint(['arrears_paid_in_run_id'], ['payment_run.id'], name=op.f('fk_suspension_arrears_paid_in_run_id_payment_run')),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_suspension_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_suspension_case_id_review_case')),
    sa.ForeignKeyConstraint(['decision_id'], ['case_decision.id'], name=op.f('fk_suspension_decision_id_case_decision')),
    sa.ForeignKeyConstraint(['ended_by'], ['staff_user.id'], name=op.f('fk_suspension_ended_by_staff_user')),
    sa.ForeignKeyConstraint(['proposed_by'], ['staff_user.id'], name=op.f('fk_suspension_proposed_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_suspension')),
    sa.UniqueConstraint('decision_id', name=op.f('uq_suspension_decision_id'))
    )
    with op.batch_alter_table('suspension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_suspension_approved_at'), ['approved_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspension_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspension_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspension_ended_on'), ['ended_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_suspension_region_code'), ['region_code'], unique=False)

    op.create_table('notice',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('suspension_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.Enum('suspension', 'termination', name='noticekind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('what', sa.Text(), nullable=False),
    sa.Column('why', sa.Text(), nullable=False),
    sa.Column('how_to_appeal', sa.Text(), nullable=False),
    sa.Column('appeal_by', sa.Date(), nullable=False),
    sa.Column('channel', sa.Enum('letter', 'sms', 'in_person', 'phone', name='noticechannel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_notice_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['case_id'], ['review_case.id'], name=op.f('fk_notice_case_id_review_case')),
    sa.ForeignKeyConstraint(['created_by'], ['staff_user.id'], name=op.f('fk_notice_created_by_staff_user')),
    sa.ForeignKeyConstraint(['suspension_id'], ['suspension.id'], name=op.f('fk_notice_suspension_id_suspension')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_suspension_id'), ['suspension_id'], unique=False)

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.add_column(sa.Column('terminated_on', sa.Date(), nullable=True))

    with op.batch_alter_table('review_case', schema=None) as batch_op:
        # Existing cases start at version 1, as new ones do.
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))



def downgrade() -> None:
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_column('version')

    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_column('terminated_on')

    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_suspension_id'))
        batch_op.drop_index(batch_op.f('ix_notice_case_id'))
        batch_op.drop_index(batch_op.f('ix_notice_beneficiary_id'))

    op.drop_table('notice')
    with op.batch_alter_table('suspension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_suspension_region_code'))
        batch_op.drop_index(batch_op.f('ix_suspension_ended_on'))
        batch_op.drop_index(batch_op.f('ix_suspension_case_id'))
        batch_op.drop_index(batch_op.f('ix_suspension_beneficiary_id'))
        batch_op.drop_index(batch_op.f('ix_suspension_approved_at'))

    op.drop_table('suspension')
    with op.batch_alter_table('visit_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_task_state'))
        batch_op.drop_index(batch_op.f('ix_visit_task_region_code'))
        batch_op.drop_index(batch_op.f('ix_visit_task_field_worker_id'))
        batch_op.drop_index(batch_op.f('ix_visit_task_case_id'))
        batch_op.drop_index(batch_op.f('ix_visit_task_beneficiary_id'))

    op.drop_table('visit_task')
    with op.batch_alter_table('payment_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_line_run_id'))
        batch_op.drop_index(batch_op.f('ix_payment_line_period'))
        batch_op.drop_index(batch_op.f('ix_payment_line_flag'))
        batch_op.drop_index(batch_op.f('ix_payment_line_beneficiary_id'))

    op.drop_table('payment_line')
    with op.batch_alter_table('case_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_decision_status'))
        batch_op.drop_index(batch_op.f('ix_case_decision_case_id'))

    op.drop_table('case_decision')
    with op.batch_alter_table('payment_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_run_period'))

    op.drop_table('payment_run')
