"""The audit log: every change leaves a linked entry, and the database refuses edits."""

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from server import db
from server.context import Ctx
from server.models import AuditEntry
from server.services.audit import first_broken_link
from tests.conftest import beneficiary_body


def test_the_chain_holds_after_real_activity(app, api, world):
    supervisor = api.as_("supervisor_a")
    created = supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1)).json()
    supervisor.get(f"/api/v1/beneficiaries/{created['id']}")
    with app.app_context():
        session = db.session()
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
        assert actions[-3:] == ["staff.login", "beneficiary.created", "beneficiary.viewed"]
        assert first_broken_link(Ctx.current()) is None


def test_postgres_refuses_to_change_or_delete_an_entry(app, api, world):
    api.as_("supervisor_a")
    with app.app_context():
        session = db.session()
        for statement in ("UPDATE audit_entry SET reason = 'edited'", "DELETE FROM audit_entry"):
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(text(statement))
            session.rollback()


def test_an_edited_entry_is_found(app, api, world):
    supervisor = api.as_("supervisor_a")
    supervisor.post("/api/v1/beneficiaries", json=beneficiary_body(world["village_a"], 1))
    with app.app_context():
        session = db.session()
        # Someone with the database owner's rights switches the guard off and rewrites history.
        session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
        session.execute(text("UPDATE audit_entry SET actor_id = 'someone-else' WHERE seq = 2"))
        session.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))
        session.commit()
        assert first_broken_link(Ctx.current()) == 2
