"""check-ins

Revision ID: 9fff8ab5f5cf
Revises: 721c4f680535
Create Date: 2026-11-23 14:34:50.140113
"""

from alembic import op
import sqlalchemy as sa


revision = '9fff8ab5f5cf'
down_revision = '721c4f680535'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkin_challenge',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('staff_id', sa.Uuid(), nullable=True),
    sa.Column('mode', sa.Enum('self', 'assisted_relative', 'assisted_staff', name='checkinmode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('actions', sa.JSON(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_checkin_challenge_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_checkin_challenge_device_id_device')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_checkin_challenge_staff_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_challenge')),
    sa.UniqueConstraint('nonce', name=op.f('uq_checkin_challenge_nonce'))
    )
    with op.batch_alter_table('checkin_challenge', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_challenge_beneficiary_id'), ['beneficiary_id'], unique=False)

    op.create_table('checkin',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('challenge_id', sa.Uuid(), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.Enum('self', 'assisted_relative', 'assisted_staff', name='checkinmode', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=True),
    sa.Column('staff_id', sa.Uuid(), nullable=True),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('gps', sa.JSON(), nullable=True),
    sa.Column('device_info', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('received', 'processing', 'verified', 'rejected', 'review', name='checkinstate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_checkin_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['challenge_id'], ['checkin_challenge.id'], name=op.f('fk_checkin_challenge_id_checkin_challenge')),
    sa.ForeignKeyConstraint(['decided_by'], ['staff_user.id'], name=op.f('fk_checkin_decided_by_staff_user')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_checkin_device_id_device')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_checkin_staff_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin')),
    sa.UniqueConstraint('beneficiary_id', 'client_id', name=op.f('uq_checkin_beneficiary_id')),
    sa.UniqueConstraint('challenge_id', name=op.f('uq_checkin_challenge_id'))
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_decided_at'), ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_state'), ['state'], unique=False)

    op.create_table('checkin_frame',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkin.id'], name=op.f('fk_checkin_frame_checkin_id_checkin')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_checkin_frame')),
    sa.UniqueConstraint('checkin_id', 'position', name=op.f('uq_checkin_frame_checkin_id'))
    )
    with op.batch_alter_table('checkin_frame', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_frame_checkin_id'), ['checkin_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_checkin_frame_sha256'), ['sha256'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('checkin_frame', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_frame_sha256'))
        batch_op.drop_index(batch_op.f('ix_checkin_frame_checkin_id'))

    op.drop_table('checkin_frame')
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_state'))
        batch_op.drop_index(batch_op.f('ix_checkin_region_code'))
        batch_op.drop_index(batch_op.f('ix_checkin_decided_at'))
        batch_op.drop_index(batch_op.f('ix_checkin_beneficiary_id'))

    op.drop_table('checkin')
    with op.batch_alter_table('checkin_challenge', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_challenge_beneficiary_id'))

    op.drop_table('checkin_challenge')
