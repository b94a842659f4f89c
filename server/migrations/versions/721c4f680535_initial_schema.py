"""initial schema

Revision ID: 721c4f680535
Revises: 
Create Date: 2026-11-23 13:16:11.120500
"""

from alembic import op
import sqlalchemy as sa


revision = '721c4f680535'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.create_table('audit_entry',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_object_id'), ['object_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_region_code'), ['region_code'], unique=False)

    op.create_table('region',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('level', sa.Enum('county', 'township', 'village', name='regionlevel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.ForeignKeyConstraint(['parent_code'], ['region.code'], name=op.f('fk_region_parent_code_region')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_region'))
    )
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_region_parent_code'), ['parent_code'], unique=False)

    op.create_table('beneficiary',
    sa.Column('id_number', sa.LargeBinary(), nullable=False),
    sa.Column('id_number_index', sa.String(length=64), nullable=False),
    sa.Column('id_number_masked', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('program', sa.Enum('urban_minimum_allowance', 'rural_minimum_allowance', 'destitute_dispersed', 'destitute_concentrated', 'orphan', 'temporary_assistance', name='program', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('household_code', sa.String(length=32), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('home_address', sa.LargeBinary(), nullable=True),
    sa.Column('home_lat', sa.Double(), nullable=True),
    sa.Column('home_lon', sa.Double(), nullable=True),
    sa.Column('phone', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.Enum('active', 'suspended', 'terminated', name='beneficiarystatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('monthly_amount', sa.Numeric(precision=10, scale=2), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['village_code'], ['region.code'], name=op.f('fk_beneficiary_village_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_beneficiary')),
    sa.UniqueConstraint('id_number_index', name=op.f('uq_beneficiary_id_number_index'))
    )
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_beneficiary_household_code'), ['household_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_name'), ['name'], unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_program'), ['program'], unique=False)
        batch_op.create_index(batch_op.f('ix_beneficiary_village_code'), ['village_code'], unique=False)

    op.create_table('staff_user',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('admin', 'supervisor', 'field_worker', name='staffrole', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_code'], ['region.code'], name=op.f('fk_staff_user_region_code_region')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_user_username'))
    )
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_user_region_code'), ['region_code'], unique=False)

    op.create_table('device',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('issued_by', sa.Uuid(), nullable=False),
    sa.Column('activation_code_index', sa.String(length=64), nullable=True),
    sa.Column('activation_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('label', sa.String(length=100), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_device_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['issued_by'], ['staff_user.id'], name=op.f('fk_device_issued_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('activation_code_index', name=op.f('uq_device_activation_code_index'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_beneficiary_id'), ['beneficiary_id'], unique=False)

    op.create_table('enrolment_photo',
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('uploaded_by', sa.Uuid(), nullable=False),
    sa.Column('object_key', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('quality', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('received', 'processing', 'encoded', 'failed', 'retired', name='photostate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('failure_reason', sa.String(length=64), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_enrolment_photo_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['staff_user.id'], name=op.f('fk_enrolment_photo_uploaded_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolment_photo')),
    sa.UniqueConstraint('object_key', name=op.f('uq_enrolment_photo_object_key'))
    )
    with op.batch_alter_table('enrolment_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolment_photo_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_enrolment_photo_state'), ['state'], unique=False)

    op.create_table('review_case',
    sa.Column('kind', sa.Enum('missed_checkin', 'failed_checkins', 'duplicate_face', 'location_anomaly', 'visit_finding', 'death_record', name='casekind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('state', sa.Enum('open', 'suspended', 'extended', 'exempted', 'dismissed', 'reinstated', 'terminated', name='casestate', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('opened_by', sa.Uuid(), nullable=True),
    sa.Column('assigned_to', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assigned_to'], ['staff_user.id'], name=op.f('fk_review_case_assigned_to_staff_user')),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_review_case_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['decided_by'], ['staff_user.id'], name=op.f('fk_review_case_decided_by_staff_user')),
    sa.ForeignKeyConstraint(['opened_by'], ['staff_user.id'], name=op.f('fk_review_case_opened_by_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_case')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_review_case_dedupe_key'))
    )
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_case_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_case_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_case_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_review_case_state'), ['state'], unique=False)

    op.create_table('face_template',
    sa.Column('photo_id', sa.Uuid(), nullable=False),
    sa.Column('beneficiary_id', sa.Uuid(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('model', sa.String(length=32), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['beneficiary_id'], ['beneficiary.id'], name=op.f('fk_face_template_beneficiary_id_beneficiary')),
    sa.ForeignKeyConstraint(['photo_id'], ['enrolment_photo.id'], name=op.f('fk_face_template_photo_id_enrolment_photo')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_face_template')),
    sa.UniqueConstraint('photo_id', name=op.f('uq_face_template_photo_id'))
    )
    with op.batch_alter_table('face_template', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_face_template_beneficiary_id'), ['beneficiary_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_face_template_county_code'), ['county_code'], unique=False)

    chain_head = sa.table("audit_chain_head", sa.column("id"), sa.column("seq"), sa.column("last_hash"))
    op.bulk_insert(chain_head, [{"id": 1, "seq": 0, "last_hash": "0" * 64}])
    if op.get_bind().dialect.name == "postgresql":
        # The audit log is append-only: refuse row updates and deletes at the database itself.
        op.execute(
            """
            CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'audit_entry is append-only';
            END $$;
            CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry
                FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
            """
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_entry_append_only ON audit_entry; DROP FUNCTION audit_entry_append_only();")
    with op.batch_alter_table('face_template', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_face_template_county_code'))
        batch_op.drop_index(batch_op.f('ix_face_template_beneficiary_id'))

    op.drop_table('face_template')
    with op.batch_alter_table('review_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_case_state'))
        batch_op.drop_index(batch_op.f('ix_review_case_region_code'))
        batch_op.drop_index(batch_op.f('ix_review_case_kind'))
        batch_op.drop_index(batch_op.f('ix_review_case_beneficiary_id'))

    op.drop_table('review_case')
    with op.batch_alter_table('enrolment_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolment_photo_state'))
        batch_op.drop_index(batch_op.f('ix_enrolment_photo_beneficiary_id'))

    op.drop_table('enrolment_photo')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_beneficiary_id'))

    op.drop_table('device')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_user_region_code'))

    op.drop_table('staff_user')
    with op.batch_alter_table('beneficiary', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_beneficiary_village_code'))
        batch_op.drop_index(batch_op.f('ix_beneficiary_program'))
        batch_op.drop_index(batch_op.f('ix_beneficiary_name'))
        batch_op.drop_index(batch_op.f('ix_beneficiary_household_code'))

    op.drop_table('beneficiary')
    with op.batch_alter_table('region', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_region_parent_code'))

    op.drop_table('region')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_entry_region_code'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_object_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_action'))

    op.drop_table('audit_entry')
    op.drop_table('audit_chain_head')
