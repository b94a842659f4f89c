"""biometric_consent: a device's recorded consent to face processing (text version and time)

Revision ID: c4a8e1f07b3d
Revises: c4a7e19b2f63
Create Date: 2026-12-01 08:20:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'c4a8e1f07b3d'
down_revision = 'c4a7e19b2f63'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('biometric_consent',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('device_id', sa.Uuid(), nullable=False),
    sa.Column('text_version', sa.String(length=32), nullable=False),
    sa.Column('agreed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_biometric_consent_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_biometric_consent_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_biometric_consent')),
    sa.UniqueConstraint('device_id', name=op.f('uq_biometric_consent_device_id'))
    )
    with op.batch_alter_table('biometric_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_biometric_consent_beneficiary_id'), ['beneficiary_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('biometric_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_biometric_consent_beneficiary_id'))
    op.drop_table('biometric_consent')
