"""Check-in cycles: creating them, which cycle applies to whom, and what satisfies one.

A cycle applies to every beneficiary whose village code starts with the cycle's region code and
whose programme matches (a cycle without a programme applies to all). Cycles that apply to the same
person never overlap in time (create_cycle refuses it), so a person has at most one cycle on a day.

Satisfaction is one set-based SQL condition per cycle: an OR of correlated EXISTS terms, one per
kind of proof (a check-in, an assisted check-in at a visit that found the person present, an
exemption, imported evidence), listed in SATISFIED_BY as the select of the ids each proof covers.
The sweep, the reminders, the status counts and the per-person view all build on it, so a new kind
of proof is one more entry there.

Exemptions follow one rule (README, "Exemptions"): an exemption that covers the cycle's deadline
satisfies the cycle; one that ends inside the cycle before the deadline moves that person's
deadline (and so their grace and their window) later by the exempted days before the deadline,
each day counted once. `_moved_days` is that rule in SQL; every reader of a person's deadline uses
what is built from it (`moved_days`, `moved_at_least`, `latest_move`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import cached_property
from typing import Any

from dateutil.relativedelta import relativedelta
from sqlalchemy import CTE, ColumnElement, Date, Select, and_, func, literal, or_, select

from server.config import Settings
from server.context import Ctx
from server.db import PageRequest, fetch_page
from server.models import (
    Beneficiary,
    BeneficiaryStatus,
    Checkin,
    CheckinState,
    Cycle,
    CycleEvidence,
    CycleFrequency,
    Exemption,
    Program,
    Region,
    Visit,
    VisitOutcome,
)
from server.services import date_window, tallies
from server.services.audit import Actor, record
from server.services.errors import Conflict, DomainError, NotFound
from server.services.regions import in_scope, within
from server.sqlfuncs import next_day, plus_days

MONTHS = {CycleFrequency.MONTHLY: 1, CycleFrequency.QUARTERLY: 3, CycleFrequency.YEARLY: 12}


def office_zone(settings: Settings) -> tzinfo:
    """The offices' clock: cycle dates are local dates."""
    return timezone(timedelta(hours=settings.cycles.utc_offset_hours))


def local_today(zone: tzinfo) -> date:
    return datetime.now(zone).date()


def office_today(settings: Settings) -> date:
    """Today at the offices: every date a service records or judges (due dates, appeal deadlines, deaths)
    is the county's, and from 16:00 UTC it is already the next day there."""
    return local_today(office_zone(settings))


def _start_of(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


@dataclass(frozen=True)
class Window:
    """When proof counts for a cycle, as UTC-comparable instants: [opening day, day after closes_on).
    A person whose deadline an exemption moved has a window that ends `moved_days` later."""

    cycle: Cycle
    start: datetime
    end: datetime
    # Enrolled before this instant (the day after the deadline) means the person was due.
    enrolled_before: datetime

    @cached_property
    def days_before_deadline(self) -> CTE:
        """SQL: the cycle's days from its opening to the day before its deadline, as rows `day`."""
        first, deadline = self.cycle.opens_on, self.cycle.deadline
        # A one-day cycle has no such day, and VALUES cannot be empty: its opening day stands in, which
        # no exemption can match (one that moves the deadline ends on or after opening, before the deadline).
        last = max(first, deadline - timedelta(days=1))
        # A CTE: SQLite accepts column names only on a CTE. Nested in the subquery that uses it: a
        # statement that starts with WITH instead of INSERT gets no rowcount from Python's sqlite3.
        # Counted up from the opening day rather than listed (VALUES): a statement holding VALUES data is
        # never cached by SQLAlchemy, and one holding 90 bound days took 30 ms to build on every person page.
        days = select(literal(first, Date).label("day")).cte("cycle_day", recursive=True, nesting=True)
        return days.union_all(select(next_day(days.c.day)).where(days.c.day < literal(last, Date)))


def window(cycle: Cycle, zone: tzinfo) -> Window:
    return Window(
        cycle=cycle,
        start=_start_of(cycle.opens_on, zone),
        end=_start_of(cycle.closes_on + timedelta(days=1), zone),
        enrolled_before=_start_of(cycle.deadline + timedelta(days=1), zone),
    )


# --- the exemption rule ---------------------------------------------------------------------------


def _moved_days(win: Window, *by: ColumnElement) -> Select:
    """How many days a person's deadline moves: the days of the cycle before its deadline that an
    exemption ending before the deadline covers, each day once (overlapping exemptions do not add up).
    Never negative: a deadline never moves earlier. As `moved`, grouped by `by` when given."""
    days = win.days_before_deadline
    query = (
        select(*by, func.count(func.distinct(days.c.day)).label("moved"))
        .select_from(Exemption)
        .join(days, and_(days.c.day >= Exemption.starts_on, days.c.day <= Exemption.ends_on))
        # Exemptions that end inside the cycle before its deadline: the person could check in after them.
        .where(Exemption.ends_on >= win.cycle.opens_on, Exemption.ends_on < win.cycle.deadline)
    )
    return query.group_by(*by) if by else query


def moved_days(win: Window, beneficiary_id: ColumnElement[uuid.UUID]) -> ColumnElement[int]:
    """SQL: how many days later this person's deadline falls (0 for nearly everyone)."""
    return _moved_days(win).where(Exemption.beneficiary_id == beneficiary_id).scalar_subquery()


def _moved_by_person(win: Window):
    return _moved_days(win, Exemption.beneficiary_id).subquery()


def moved_at_least(win: Window, days: int) -> Select:
    """SQL: ids of the people whose deadline moved by `days` or more (computed once, not per person)."""
    moved = _moved_by_person(win)
    return select(moved.c.beneficiary_id).where(moved.c.moved >= days)


def moved_by(win: Window, days: int) -> ColumnElement[bool]:
    """SQL condition on Beneficiary: the person's deadline moved by exactly `days` (0: not moved)."""
    moved = _moved_by_person(win)
    if days == 0:
        return ~Beneficiary.id.in_(moved_at_least(win, 1))
    return Beneficiary.id.in_(select(moved.c.beneficiary_id).where(moved.c.moved == days))


def moves(ctx: Ctx, win: Window) -> list[int]:
    """The distinct numbers of days (besides 0) by which someone's deadline moved in the cycle."""
    moved = _moved_by_person(win)
    return sorted(ctx.session.scalars(select(moved.c.moved).where(moved.c.moved > 0).distinct()))


def latest_move(win: Window, *conditions: ColumnElement[bool]) -> ColumnElement[int]:
    """SQL: the most days any person matching `conditions` (on Beneficiary) had their deadline moved."""
    moved = _moved_by_person(win)
    return (
        select(func.max(moved.c.moved))
        .select_from(moved.join(Beneficiary, Beneficiary.id == moved.c.beneficiary_id))
        .where(*conditions)
        .scalar_subquery()
    )


def _received_in(win: Window, *conditions: ColumnElement[bool]) -> Select:
    """SQL: the ids of people with a check-in meeting `conditions` received in their window. Nearly all
    are in the cycle's own window, a range the database reads from an index. Only people whose deadline
    moved are looked at again, for a check-in after it; that day count names the check-in's person, so
    it correlates with the check-in."""
    usual = and_(Checkin.created_at >= win.start, Checkin.created_at < win.end)
    moved_end = plus_days(literal(win.end, Checkin.created_at.type), moved_days(win, Checkin.beneficiary_id))
    late = and_(
        Checkin.beneficiary_id.in_(moved_at_least(win, 1)),
        Checkin.created_at >= win.end,
        Checkin.created_at < moved_end,
    )
    return select(Checkin.beneficiary_id).where(*conditions, or_(usual, late))


def person_deadline(ctx: Ctx, *, cycle: Cycle, beneficiary_id: uuid.UUID, zone: tzinfo) -> tuple[date, date]:
    """The person's deadline and last day in the cycle, after any move by an exemption."""
    moved = ctx.session.scalar(select(moved_days(window(cycle, zone), literal(beneficiary_id)))) or 0
    return cycle.deadline + timedelta(days=moved), cycle.closes_on + timedelta(days=moved)


# --- what satisfies a cycle -------------------------------------------------------------------------

# Each kind of proof as the select of the ids of the people it covers (one column, `beneficiary_id`):
# a person's cycles ask whether they are among them, the status counts join the sets once.
ProofSet = Callable[[Cycle, Window], Select]


def _verified_checkins(cycle: Cycle, win: Window) -> Select:
    # Any mode (self, relative- or staff-assisted) outside a home visit: each is verified the same way.
    # The time that counts is when it was received, so a check-in sent in time and decided by a
    # reviewer later counts.
    return _received_in(win, Checkin.state == CheckinState.VERIFIED, Checkin.visit_id.is_(None))


def _confirmed_present_visits(cycle: Cycle, win: Window) -> Select:
    # An assisted check-in run during a home visit proves life only when the visit found the person
    # present: a verified face at a visit recorded as absent or deceased contradicts itself, and waits
    # for a person to look.
    return (
        _received_in(win, Checkin.state == CheckinState.VERIFIED)
        .join(Visit, Visit.id == Checkin.visit_id)
        .where(Visit.outcome == VisitOutcome.CONFIRMED_PRESENT)
    )


def _exemptions(cycle: Cycle, win: Window) -> Select:
    # Only an exemption that covers the deadline: the person could not check in when it mattered.
    return select(Exemption.beneficiary_id).where(
        Exemption.starts_on <= cycle.deadline, Exemption.ends_on >= cycle.deadline
    )


def _imported_evidence(cycle: Cycle, win: Window) -> Select:
    return select(CycleEvidence.beneficiary_id).where(CycleEvidence.cycle_id == cycle.id)


SATISFIED_BY: dict[str, ProofSet] = {
    "checkin": _verified_checkins,
    "exemption": _exemptions,
    "evidence": _imported_evidence,
    "visit": _confirmed_present_visits,
}


def proof_term(proof: Select, beneficiary_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """SQL: the beneficiary is among the proof's people (a correlated EXISTS)."""
    return proof.where(proof.selected_columns[0] == beneficiary_id).exists()


def satisfied(cycle: Cycle, win: Window, beneficiary_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """SQL: the beneficiary has some proof for the cycle."""
    return or_(*(proof_term(proof(cycle, win), beneficiary_id) for proof in SATISFIED_BY.values()))


def due(cycle: Cycle, win: Window) -> list[ColumnElement[bool]]:
    """SQL conditions on Beneficiary: active, in the cycle's region and programme, enrolled by the deadline."""
    conditions = [
        Beneficiary.status == BeneficiaryStatus.ACTIVE,
        in_scope(Beneficiary.village_code, cycle.region_code),
        Beneficiary.created_at < win.enrolled_before,
    ]
    if cycle.program is not None:
        conditions.append(Beneficiary.program == cycle.program)
    return conditions


def satisfied_ids(cycle: Cycle, zone: tzinfo):
    """A Core select of the ids of beneficiaries due in the cycle who have satisfied it."""
    win = window(cycle, zone)
    return select(Beneficiary.id).where(*due(cycle, win), satisfied(cycle, win, Beneficiary.id))


# --- creating and finding cycles ----------------------------------------------------------------


def _applies_to_region(region_code: str):
    """SQL: the cycle's region contains `region_code`, or lies inside it."""
    return or_(in_scope(Cycle.region_code, region_code), literal(region_code).like(Cycle.region_code.concat("%")))


def standard_periods(frequency: CycleFrequency, year: int) -> list[tuple[date, date]]:
    """The calendar periods of a year: (opening day, deadline = the period's last day)."""
    step = MONTHS[frequency]
    periods = []
    for month in range(1, 13, step):
        opens_on = date(year, month, 1)
        periods.append((opens_on, opens_on + relativedelta(months=step) - timedelta(days=1)))
    return periods


def _overlapping(ctx: Ctx, region_code: str, program: Program | None, opens_on: date, deadline: date) -> Cycle | None:
    query = select(Cycle).where(_applies_to_region(region_code), Cycle.opens_on <= deadline, Cycle.deadline >= opens_on)
    if program is not None:
        query = query.where(or_(Cycle.program.is_(None), Cycle.program == program))
    return ctx.session.scalars(query.limit(1)).first()


def create_cycle(
    ctx: Ctx,
    *,
    actor: Actor,
    region_code: str,
    program: Program | None,
    frequency: CycleFrequency,
    opens_on: date,
    deadline: date,
    grace_days: int,
    today: date,
) -> Cycle:
    """Add a cycle for a region of the actor's; it may not overlap another cycle for the same people."""
    region = ctx.session.get(Region, region_code)
    if region is None or (actor.region_code and not within(actor.region_code, region_code)):
        raise DomainError.field("region_code", "unknown_region", "no such region in your region")
    if deadline < opens_on:
        raise DomainError.field("deadline", "before_opening", "the deadline is before the opening day")
    # Checked before the row exists: a cycle near the end of the calendar could not even be read back
    # (its closing day, deadline + grace, overflows), and every list showing it would fail.
    for name, day in (("opens_on", opens_on), ("deadline", deadline)):
        if not date_window.within(day, today):
            window = f"{date_window.EARLIEST} to {date_window.latest(today)}"
            raise DomainError.field(name, "out_of_range", f"{name} must lie in {window}")
    if deadline < today:
        raise DomainError.field("deadline", "in_the_past", "the deadline has passed; a cycle is for the future")
    clash = _overlapping(ctx, region_code, program, opens_on, deadline)
    if clash is not None:
        raise Conflict(
            f"overlaps cycle {clash.id} ({clash.region_code}, {clash.opens_on} to {clash.deadline})",
            {"opens_on": ["overlapping_cycle"]},
        )
    cycle = Cycle(
        region_code=region_code,
        program=program,
        frequency=frequency,
        opens_on=opens_on,
        deadline=deadline,
        grace_days=grace_days,
        created_by=uuid.UUID(actor.id) if actor.kind == "staff" else None,
    )
    ctx.session.add(cycle)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="cycle.created",
        object_type="cycle",
        object_id=cycle.id,
        region_code=region_code,
        details={
            "program": program.value if program else None,
            "frequency": frequency.value,
            "opens_on": opens_on.isoformat(),
            "deadline": deadline.isoformat(),
            "grace_days": grace_days,
        },
    )
    return cycle


def generate_cycles(
    ctx: Ctx,
    *,
    actor: Actor,
    region_code: str,
    year: int,
    frequency: CycleFrequency,
    program: Program | None,
    grace_days: int,
    today: date,
) -> tuple[list[Cycle], list[tuple[date, str]]]:
    """Create the standard cycles of a year; returns the new cycles and (opening day, reason) of those skipped."""
    created, skipped = [], []
    for opens_on, deadline in standard_periods(frequency, year):
        # create_cycle checks everything before it writes, so a refused period leaves nothing behind.
        try:
            created.append(
                create_cycle(
                    ctx,
                    actor=actor,
                    region_code=region_code,
                    program=program,
                    frequency=frequency,
                    opens_on=opens_on,
                    deadline=deadline,
                    grace_days=grace_days,
                    today=today,
                )
            )
        except DomainError as exc:
            if "region_code" in exc.errors:
                raise
            skipped.append((opens_on, next(iter(exc.errors.values()))[0]))
    return created, skipped


def visible_cycles(actor: Actor):
    """Cycles that matter to the actor: those inside its region and those that contain it."""
    return select(Cycle).where(_applies_to_region(actor.region_code))


def list_cycles(ctx: Ctx, *, actor: Actor, page: PageRequest) -> tuple[list[Cycle], int]:
    return fetch_page(
        ctx.session, visible_cycles(actor), order_by=(Cycle.opens_on.desc(), Cycle.region_code, Cycle.id), page=page
    )


def get_cycle(ctx: Ctx, *, actor: Actor, cycle_id: uuid.UUID) -> Cycle:
    cycle = ctx.session.scalar(visible_cycles(actor).where(Cycle.id == cycle_id))
    if cycle is None:
        raise NotFound("cycle not found", {"cycle_id": ["not_found"]})
    return cycle


def applying_to(beneficiary: Beneficiary):
    """Cycles whose region and programme include this beneficiary, newest first."""
    return (
        select(Cycle)
        .where(
            literal(beneficiary.village_code).like(Cycle.region_code.concat("%")),
            or_(Cycle.program.is_(None), Cycle.program == beneficiary.program),
        )
        .order_by(Cycle.opens_on.desc())
    )


def cycle_for(ctx: Ctx, *, beneficiary: Beneficiary, on_date: date) -> Cycle | None:
    """The cycle a proof on this date counts for: the latest opened one whose window holds the date."""
    for cycle in ctx.session.scalars(applying_to(beneficiary).where(Cycle.opens_on <= on_date).limit(3)):
        if on_date <= cycle.closes_on:
            return cycle
    return None


@dataclass(frozen=True)
class Period:
    """The stretch of time a person's failed check-ins and absences are counted in."""

    key: str  # the cycle's id, or the first day of the calendar quarter
    start: datetime
    end: datetime


def period_for(ctx: Ctx, *, beneficiary: Beneficiary, on_date: date, zone: tzinfo) -> Period:
    """The cycle holding the date, or its calendar quarter where no cycle is configured (the default)."""
    cycle = cycle_for(ctx, beneficiary=beneficiary, on_date=on_date)
    if cycle is not None:
        win = window(cycle, zone)
        return Period(str(cycle.id), win.start, win.end)
    first = date(on_date.year, 3 * ((on_date.month - 1) // 3) + 1, 1)
    return Period(first.isoformat(), _start_of(first, zone), _start_of(first + relativedelta(months=3), zone))


def phase(cycle: Cycle, today: date) -> str:
    """upcoming, open, grace (deadline passed, proof still counts) or closed."""
    if today < cycle.opens_on:
        return "upcoming"
    if today <= cycle.deadline:
        return "open"
    return "grace" if today <= cycle.closes_on else "closed"


# --- reading where a cycle stands ---------------------------------------------------------------


def status(ctx: Ctx, *, actor: Actor, cycle: Cycle, zone: tzinfo) -> dict[str, Any]:
    """How many people in the actor's part of the cycle are due, satisfied (by each kind) and not.

    One query: the people due, left-joined to each kind's distinct proven ids, counted with filters. Hash
    joins over sets, not a correlated EXISTS per person and kind (seconds at a county of 150,000).
    """
    win = window(cycle, zone)
    proven = {kind: proof(cycle, win).distinct().subquery(kind) for kind, proof in SATISFIED_BY.items()}
    people = Beneficiary.__table__
    for subquery in proven.values():
        people = people.outerjoin(subquery, subquery.c.beneficiary_id == Beneficiary.id)
    hits = {kind: subquery.c.beneficiary_id.is_not(None) for kind, subquery in proven.items()}
    row = ctx.session.execute(
        select(
            func.count(),
            func.count().filter(or_(*hits.values())),
            *(func.count().filter(hit) for hit in hits.values()),
        )
        .select_from(people)
        .where(*due(cycle, win), in_scope(Beneficiary.village_code, actor.region_code))
    ).one()
    total, satisfied_count, *by_kind = row
    return {
        "cycle": cycle,
        "phase": phase(cycle, local_today(zone)),
        "due": total,
        "satisfied": satisfied_count,
        "unsatisfied": total - satisfied_count,
        "satisfied_by": dict(zip(proven, by_kind, strict=True)),
    }


def tallied_status(ctx: Ctx, *, actor: Actor, cycle: Cycle, zone: tzinfo, recount: bool = False) -> dict[str, Any]:
    """status(), as counted at most tallies.MAX_AGE ago (or now, with `recount`), with `counted_at`."""

    def count() -> dict[str, Any]:
        figures = status(ctx, actor=actor, cycle=cycle, zone=zone)
        return {name: figures[name] for name in ("due", "satisfied", "unsatisfied", "satisfied_by")}

    figures, counted_at = tallies.tallied(
        ctx, report="cycle_status", key=str(cycle.id), region_code=actor.region_code, count=count, recount=recount
    )
    return {**figures, "cycle": cycle, "phase": phase(cycle, local_today(zone)), "counted_at": counted_at}


def beneficiary_cycles(ctx: Ctx, *, beneficiary: Beneficiary, zone: tzinfo, limit: int = 12) -> list[dict]:
    """The person's latest cycles: were they due, is the cycle satisfied, and by what."""
    today = local_today(zone)
    results = []
    for cycle in ctx.session.scalars(applying_to(beneficiary).limit(limit)):
        win = window(cycle, zone)
        kinds = ctx.session.execute(
            select(
                *(
                    proof_term(proof(cycle, win), literal(beneficiary.id)).label(kind)
                    for kind, proof in SATISFIED_BY.items()
                )
            )
        ).one()
        by = [kind for kind, hit in zip(SATISFIED_BY, kinds, strict=True) if hit]
        deadline, last_day = person_deadline(ctx, cycle=cycle, beneficiary_id=beneficiary.id, zone=zone)
        results.append(
            {
                "cycle": cycle,
                "deadline": deadline,
                "last_day": last_day,
                "phase": phase(cycle, today),
                "due": beneficiary.created_at < win.enrolled_before,
                "satisfied": bool(by),
                "satisfied_by": by,
            }
        )
    return results
