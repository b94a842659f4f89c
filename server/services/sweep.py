"""The missed-check-in sweep: after a cycle's deadline and grace, everyone due who has no proof gets a case.

One INSERT … SELECT per cycle does the work inside the database (a million beneficiaries never
travel to Python), and ON CONFLICT on the case's dedupe key makes it idempotent. Several workers
may sweep at once: each locks the cycles it sweeps (SKIP LOCKED, so the others pass them by), and
even without the lock the dedupe key would let only one case per person and cycle in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, tzinfo

from sqlalchemy import literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.types import JSON

from server.models import Beneficiary, CaseKind, CaseState, Cycle, ReviewCase, utcnow
from server.services.audit import Actor, record
from server.services.cases import REVIEW_WORKING_DAYS, add_working_days
from server.services.cycles import due, satisfied, window
from server.sqlfuncs import insert_ignoring_conflicts, random_uuid, uuid_text


def dedupe_key(beneficiary_id: str, cycle_id: str) -> str:
    """The key of a person's missed_checkin case for a cycle (the sweep builds the same in SQL)."""
    return f"{CaseKind.MISSED_CHECKIN.value}:{beneficiary_id}:{cycle_id}"


def sweep_cycle(session: Session, cycle: Cycle, today: date, *, zone: tzinfo) -> int:
    """Open a missed_checkin case for everyone due in the cycle without proof; returns how many opened."""
    win = window(cycle, zone)
    now = utcnow()
    columns = {
        "id": random_uuid(),
        "kind": literal(CaseKind.MISSED_CHECKIN.value),
        "state": literal(CaseState.OPEN.value),
        "beneficiary_id": Beneficiary.id,
        "region_code": Beneficiary.village_code,
        # dedupe_key(beneficiary id, cycle id), computed by the database for each row.
        "dedupe_key": literal(f"{CaseKind.MISSED_CHECKIN.value}:")
        .concat(uuid_text(Beneficiary.id))
        .concat(f":{cycle.id}"),
        "summary": literal(
            f"No proof of life for the cycle {cycle.opens_on} to {cycle.deadline} (grace until {cycle.closes_on}): "
            f"check on the person within {REVIEW_WORKING_DAYS} working days"
        ),
        "details": literal(
            {
                "cycle_id": str(cycle.id),
                "opens_on": cycle.opens_on.isoformat(),
                "deadline": cycle.deadline.isoformat(),
                "closes_on": cycle.closes_on.isoformat(),
            },
            JSON(),
        ),
        "due_on": literal(add_working_days(today, REVIEW_WORKING_DAYS)),
        "created_at": literal(now, ReviewCase.created_at.type),
        "updated_at": literal(now, ReviewCase.updated_at.type),
    }
    unsatisfied = select(*columns.values()).where(*due(cycle, win), ~satisfied(cycle, win, Beneficiary.id))
    statement = insert_ignoring_conflicts(session, ReviewCase).from_select(list(columns), unsatisfied)
    statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


@dataclass
class SweepResult:
    opened: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.opened.values())


def sweep(session: Session, today: date, *, zone: tzinfo, actor: Actor | None = None) -> SweepResult:
    """Sweep every cycle closed before `today` that no sweep has finished; one transaction, committed."""
    closed_ids = [
        cycle.id
        for cycle in session.scalars(select(Cycle).where(Cycle.swept_at.is_(None), Cycle.deadline < today))
        if cycle.closes_on < today
    ]
    result = SweepResult()
    if not closed_ids:
        session.commit()
        return result
    # Another worker sweeping the same cycles holds their rows: skip them rather than wait and redo.
    cycles = session.scalars(
        select(Cycle)
        .where(Cycle.id.in_(closed_ids), Cycle.swept_at.is_(None))
        .order_by(Cycle.deadline, Cycle.id)
        .with_for_update(skip_locked=True)
    ).all()
    for cycle in cycles:
        result.opened[str(cycle.id)] = sweep_cycle(session, cycle, today, zone=zone)
    if cycles:
        session.execute(update(Cycle).where(Cycle.id.in_([c.id for c in cycles])).values(swept_at=utcnow()))
        # One entry for the whole sweep, not one per case: at a million beneficiaries a per-case
        # entry would be a million chained hashes. The cases themselves name the cycle, and their
        # dedupe keys tie each one to this sweep's cycles.
        record(
            session,
            actor=actor or Actor.system(),
            action="cycle.swept",
            object_type="sweep",
            object_id=today.isoformat(),
            details={"today": today.isoformat(), "opened": result.total, "cycles": result.opened},
        )
    session.commit()
    return result
