"""Opening cases in test setup the way the sweep and the worker do (the sweep lives on another branch)."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import select

from server import db
from server.models import AuditEntry, Beneficiary, CaseKind
from server.services.cases import open_case


def open_test_case(app: Flask, beneficiary_id: str, kind: CaseKind = CaseKind.MISSED_CHECKIN, **details) -> str:
    """Open a case for a beneficiary as the system would; returns its id."""
    with app.app_context():
        session = db.session()
        beneficiary = session.get(Beneficiary, uuid.UUID(beneficiary_id))
        case = open_case(
            session,
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
