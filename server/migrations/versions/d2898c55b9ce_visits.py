"""visits

Revision ID: d2898c55b9ce
Revises: 9fff8ab5f5cf
Create Date: 2026-11-23 16:07:05.907844
"""

from alembic import op
import sqlalchemy as sa


revision = 'd2898c55b9ce'
down_revision = '9fff8ab5f5cf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('visit',
    sa.Column('field_worker_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('beneficiary_id', sa.Uuid(), nullable=True),
    sa.Column('household_code', sa.String(length=32), nullable=True),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('worker_region_code', sa.String(length=12), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('device_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('gps_fixes', sa.LargeBinary(), nullable=False),
    sa.Column('checklist_version', sa.Integer(), nullable=False),
    sa.Column('checklist', sa.LargeBinary(), nullable=False),
    sa.Column('outcome', sa.Enum('confirmed_present', 'absent', 'moved_away', 'deceased', 'refused', name='visitoutcome', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('notes', sa.LargeBinary(), nullable=True),
    sa.Column('device_info', sa.JSON(), nullable=False),
    sa.Column('quarantined', sa.Boolean(), nullable=False),
    sa.Column('last_edit_digest', sa.String(length=64), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_visit_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['field_worker_id'], ['staff_user.id'], name=op.f('fk_visit_field_worker_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('field_worker_id', 'client_id', name=op.f('uq_visit_field_worker_id'))
    )
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index('ix_visit_field_worker_id_started_at', ['field_worker_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_household_code'), ['household_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_worker_region_code'), ['worker_region_code'], unique=False)

    op.create_table('visit_flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.Enum('far_from_home', 'poor_accuracy', 'mock_location', 'impossible_travel', 'desk_cluster', 'clock_skew', 'outside_region', name='visitflagcode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_flag_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_flag')),
    sa.UniqueConstraint('visit_id', 'code', name=op.f('uq_visit_flag_visit_id'))
    )
    with op.batch_alter_table('visit_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_flag_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_flag_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_photo',
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visit.id'], name=op.f('fk_visit_photo_visit_id_visit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_photo')),
    sa.UniqueConstraint('visit_id', 'sha256', name=op.f('uq_visit_photo_visit_id'))
    )
    with op.batch_alter_table('visit_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_photo_visit_id'), ['visit_id'], unique=False)

    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_checkin_visit_id'), ['visit_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_checkin_visit_id_visit'), 'visit', ['visit_id'], ['id'])

    with op.batch_alter_table('checkin_challenge', schema=None) as batch_op:
        batch_op.add_column(sa.Column('visit_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_checkin_challenge_visit_id_visit'), 'visit', ['visit_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('checkin_challenge', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checkin_challenge_visit_id_visit'), type_='foreignkey')
        batch_op.drop_column('visit_id')

    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_checkin_visit_id_visit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_checkin_visit_id'))
        batch_op.drop_column('visit_id')

    with op.batch_alter_table('visit_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_photo_visit_id'))

    op.drop_table('visit_photo')
    with op.batch_alter_table('visit_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_flag_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_flag_code'))

    op.drop_table('visit_flag')
    with op.batch_alter_table('visit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_worker_region_code'))
        batch_op.drop_index(batch_op.f('ix_visit_started_at'))
        batch_op.drop_index(batch_op.f('ix_visit_region_code'))
        batch_op.drop_index(batch_op.f('ix_visit_outcome'))
        batch_op.drop_index(batch_op.f('ix_visit_household_code'))
        batch_op.drop_index('ix_visit_field_worker_id_started_at')
        batch_op.drop_index(batch_op.f('ix_visit_beneficiary_id'))

    op.drop_table('visit')
