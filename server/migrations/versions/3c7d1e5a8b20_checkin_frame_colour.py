"""check-in frames carry the screen colour of the colour-light phase

Revision ID: 3c7d1e5a8b20
Revises: c4a8e1f07b3d
Create Date: 2026-12-01 08:50:00
"""

from alembic import op
import sqlalchemy as sa


revision = '3c7d1e5a8b20'
down_revision = 'c4a8e1f07b3d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('checkin_frame') as batch:
        batch.add_column(sa.Column('colour', sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('checkin_frame') as batch:
        batch.drop_column('colour')
