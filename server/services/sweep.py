"""The missed-check-in sweep: after a cycle's deadline and grace, everyone due who has no proof gets a case.

One INSERT … SELECT per cycle does the work inside the database (a million beneficiaries never
travel to Python), and ON CONFLICT on the case's dedupe key makes it idempotent. Several workers
may sweep at once: each locks the cycles it sweeps (SKIP LOCKED, so the others pass them by), and
even without the lock the dedupe key would let only one case per person and cycle in.

A person whose deadline an exemption moved (cycles.moved_days) is left out until their own last day
has passed: the first sweep of a cycle notes the latest such day (Cycle.moved_until), and later
sweeps look again at only those people until it has passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta, tzinfo

from sqlalchemy import literal, or_, select, true, update
from sqlalchemy.types import JSON

from server.context import Ctx
from server.models import Beneficiary, CaseKind, CaseState, Cycle, ReviewCase, utcnow
from server.services.audit import Actor, record
from server.services.cases import REVIEW_WORKING_DAYS, add_working_days
from server.services.cycles import due, latest_move, moved_at_least, satisfied, window
from server.services.duplicate_registrations import held_ids
from server.sqlfuncs import insert_ignoring_conflicts, new_uuid, uuid_text


def dedupe_key(beneficiary_id: str, cycle_id: str) -> str:
    """The key of a person's missed_checkin case for a cycle (the sweep builds the same in SQL)."""
    return f"{CaseKind.MISSED_CHECKIN.value}:{beneficiary_id}:{cycle_id}"


def missed_checkin_cases(ctx: Ctx, *, cycle: Cycle, today: date, zone: tzinfo, only_moved: bool = False):
    """The INSERT … SELECT … ON CONFLICT DO NOTHING that opens the cycle's missed_checkin cases: for
    everyone due without proof whose last day (moved or not) is before `today`; `only_moved` limits
    it to people whose deadline an exemption moved."""
    win = window(cycle, zone)
    now = utcnow()
    # The person's last day is closes_on + moved days; it has passed when moved days < days since closes_on.
    late_by = (today - cycle.closes_on).days
    # A held duplicate registration waits for the county's review, not for a check-in.
    conditions = [*due(cycle, win), ~satisfied(cycle, win, Beneficiary.id), Beneficiary.id.not_in(held_ids())]
    if only_moved:
        conditions.append(Beneficiary.id.in_(moved_at_least(win, 1)))
    if late_by <= (cycle.deadline - cycle.opens_on).days:
        # Their last day is still to come: a set computed once, where a per-person count would run per row.
        conditions.append(Beneficiary.id.not_in(moved_at_least(win, late_by)))
    summary = (
        f"No proof of life by the deadline an exemption moved (cycle deadline {cycle.deadline} + grace)"
        if only_moved
        else f"No proof of life by {cycle.closes_on} (deadline {cycle.deadline} + grace)"
    )
    key = literal(f"{CaseKind.MISSED_CHECKIN.value}:").concat(uuid_text(Beneficiary.id)).concat(f":{cycle.id}")
    # Sorted by dedupe key (a seq scan and a sort of narrow rows): the unique index and the beneficiary
    # index then grow at one end instead of being written all over, which halves the WAL at scale.
    people = (
        select(Beneficiary.id, Beneficiary.village_code, key.label("dedupe_key"))
        .where(*conditions)
        .order_by(key)
        .subquery()
    )
    columns = {
        "id": new_uuid(),
        "kind": literal(CaseKind.MISSED_CHECKIN.value),
        "state": literal(CaseState.OPEN.value),
        "beneficiary_id": people.c.id,
        "region_code": people.c.village_code,
        # dedupe_key(beneficiary id, cycle id), computed by the database for each row.
        "dedupe_key": people.c.dedupe_key,
        # Kept short: at a million beneficiaries every byte here is a megabyte written.
        "summary": literal(summary),
        "details": literal({"cycle_id": str(cycle.id), "deadline": cycle.deadline.isoformat()}, JSON()),
        "due_on": literal(add_working_days(today, REVIEW_WORKING_DAYS)),
        "created_at": literal(now, ReviewCase.created_at.type),
        "updated_at": literal(now, ReviewCase.updated_at.type),
    }
    # WHERE true: SQLite needs a WHERE to tell INSERT … SELECT … ON CONFLICT from a join's ON.
    unsatisfied = select(*columns.values()).where(true())
    statement = insert_ignoring_conflicts(ctx.session, ReviewCase).from_select(list(columns), unsatisfied)
    statement = statement.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return statement


def sweep_cycle(ctx: Ctx, *, cycle: Cycle, today: date, zone: tzinfo, only_moved: bool = False) -> int:
    """Open a missed_checkin case for everyone due in the cycle without proof whose last day has passed
    (`only_moved`: of those whose deadline an exemption moved); returns how many opened."""
    statement = missed_checkin_cases(ctx, cycle=cycle, today=today, zone=zone, only_moved=only_moved)
    return ctx.session.execute(statement, execution_options={"preserve_rowcount": True}).rowcount


def _moved_until(ctx: Ctx, *, cycle: Cycle, today: date, zone: tzinfo) -> date | None:
    """The last day of the latest deadline an exemption moved, if it has not passed by `today`."""
    win = window(cycle, zone)
    latest = ctx.session.scalar(select(latest_move(win, *due(cycle, win))))
    last_day = cycle.closes_on + timedelta(days=latest or 0)
    return last_day if last_day >= today else None


@dataclass
class SweepResult:
    opened: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.opened.values())


def sweep(ctx: Ctx, *, today: date, zone: tzinfo, actor: Actor | None = None) -> SweepResult:
    """Sweep every cycle closed before `today` that no sweep has finished, and again those where a
    moved deadline was still to come; one transaction, the caller's."""
    unfinished = or_(Cycle.swept_at.is_(None), Cycle.moved_until.is_not(None))
    closed_ids = [
        cycle.id
        for cycle in ctx.session.scalars(select(Cycle).where(unfinished, Cycle.deadline < today))
        if cycle.closes_on < today
    ]
    result = SweepResult()
    if not closed_ids:
        return result
    # Another worker sweeping the same cycles holds their rows: skip them rather than wait and redo.
    cycles = ctx.session.scalars(
        select(Cycle)
        .where(Cycle.id.in_(closed_ids), unfinished)
        .order_by(Cycle.deadline, Cycle.id)
        .with_for_update(skip_locked=True)
    ).all()
    for cycle in cycles:
        first = cycle.swept_at is None
        result.opened[str(cycle.id)] = sweep_cycle(ctx, cycle=cycle, today=today, zone=zone, only_moved=not first)
        if first:
            cycle.moved_until = _moved_until(ctx, cycle=cycle, today=today, zone=zone)
        elif cycle.moved_until is not None and cycle.moved_until < today:
            # Everyone whose deadline moved has had it pass: this sweep was the last to look.
            cycle.moved_until = None
    if cycles:
        ctx.session.execute(update(Cycle).where(Cycle.id.in_([c.id for c in cycles])).values(swept_at=utcnow()))
        # One entry for the whole sweep, not one per case: at a million beneficiaries a per-case
        # entry would be a million chained hashes. The cases themselves name the cycle, and their
        # dedupe keys tie each one to this sweep's cycles.
        record(
            ctx.session,
            actor=actor or Actor.system(),
            action="cycle.swept",
            object_type="sweep",
            object_id=today.isoformat(),
            details={"today": today.isoformat(), "opened": result.total, "cycles": result.opened},
        )
    return result
