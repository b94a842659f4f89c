"""Opening cases in test setup the way the sweep and the worker do (the sweep lives on another branch)."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import select

from server import db
from server.context import Ctx
from server.models import AuditEntry, Beneficiary, CaseKind, StaffRole
from server.services import staff
from server.services.audit import Actor
from server.services.cases import open_case
from tests.conftest import PASSWORD


def open_test_case(app: Flask, beneficiary_id: str, kind: CaseKind = CaseKind.MISSED_CHECKIN, **details) -> str:
    """Open a case for a beneficiary as the system would; returns its id."""
    with app.app_context():
        session = db.session()
        beneficiary = session.get(Beneficiary, uuid.UUID(beneficiary_id))
        case = open_case(
            Ctx.current(),
            kind=kind,
            beneficiary=beneficiary,
            dedupe_key=f"test:{kind.value}:{beneficiary_id}:{uuid.uuid4().hex}",
            summary=f"{kind.value} (test setup)",
            details=details,
        )
        session.commit()
        return str(case.id)


def audit_actions(app: Flask, object_id: str) -> list[str]:
    """The audit log's actions about one object, in order."""
    with app.app_context():
        return list(
            db.session().scalars(
                select(AuditEntry.action).where(AuditEntry.object_id == object_id).order_by(AuditEntry.seq)
            )
        )


def add_supervisor(app: Flask, region_code: str, username: str = "supervisor_county") -> str:
    """One more supervisor (by default one at the county besides its admin: a county-level resolution needs two
    people). Returns the username; the password is the suite's."""
    with app.app_context():
        staff.create_staff_user(
            Ctx.current(),
            actor=Actor(kind="system", id="test-setup"),
            username=username,
            password=PASSWORD,
            role=StaffRole.SUPERVISOR,
            region_code=region_code,
        )
        db.session().commit()
    return username
