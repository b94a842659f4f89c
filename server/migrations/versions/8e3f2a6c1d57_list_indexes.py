"""Lists at county scale: an index per list holding its sort and scope columns (index-only pages and counts)

The scope is a range of region codes (services.regions.in_scope), which a plain B-tree serves on both
PostgreSQL and SQLite: no pattern-ops operator class is needed. Indexes that a new one
leads with are dropped (beneficiary.village_code, checkin.state, visit.started_at).

Revision ID: 8e3f2a6c1d57
Revises: a3f9d2c41b07
Create Date: 2026-12-01 11:40:00
"""

from alembic import op


revision = '8e3f2a6c1d57'
down_revision = 'a3f9d2c41b07'
branch_labels = None
depends_on = None

INDEXES = {
    'beneficiary': {'ix_beneficiary_list': ['village_code', 'name', 'id']},
    'review_case': {
        'ix_review_case_list': ['due_on', 'created_at', 'id', 'region_code'],
        'ix_review_case_scope': ['region_code', 'state', 'kind'],
    },
    'checkin': {
        'ix_checkin_list': ['created_at', 'id', 'region_code'],
        'ix_checkin_state_list': ['state', 'created_at', 'id', 'region_code'],
    },
    'visit': {'ix_visit_list': ['started_at', 'id', 'region_code', 'worker_region_code']},
    'visit_task': {'ix_visit_task_list': ['due_on', 'created_at', 'id', 'region_code']},
}
REPLACED = {
    'beneficiary': ('ix_beneficiary_village_code', ['village_code']),
    'checkin': ('ix_checkin_state', ['state']),
    'visit': ('ix_visit_started_at', ['started_at']),
}


def upgrade() -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in indexes.items():
                batch_op.create_index(name, columns, unique=False)
            if table in REPLACED:
                batch_op.drop_index(REPLACED[table][0])


def downgrade() -> None:
    for table, indexes in INDEXES.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            if table in REPLACED:
                name, columns = REPLACED[table]
                batch_op.create_index(name, columns, unique=False)
            for name in indexes:
                batch_op.drop_index(name)
