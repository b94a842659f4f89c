"""face_template: a verified check-in's best frame can be a template (photo_id or checkin_id, one of them)

Revision ID: c4a7e19b2f63
Revises: 5b1e7c2a9d40
Create Date: 2026-12-01 08:10:00
"""

from alembic import op
import sqlalchemy as sa


revision = 'c4a7e19b2f63'
down_revision = '5b1e7c2a9d40'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('face_template', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checkin_id', sa.Uuid(), nullable=True))
        batch_op.alter_column('photo_id', existing_type=sa.Uuid(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_face_template_checkin_id_checkin'), 'checkin', ['checkin_id'], ['id'])
        batch_op.create_unique_constraint(batch_op.f('uq_face_template_checkin_id'), ['checkin_id'])
        batch_op.create_check_constraint('one_source', '(photo_id IS NULL) <> (checkin_id IS NULL)')


def downgrade() -> None:
    op.execute("DELETE FROM face_template WHERE checkin_id IS NOT NULL")
    with op.batch_alter_table('face_template', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_face_template_one_source'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_face_template_checkin_id'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_face_template_checkin_id_checkin'), type_='foreignkey')
        batch_op.alter_column('photo_id', existing_type=sa.Uuid(), nullable=False)
        batch_op.drop_column('checkin_id')
