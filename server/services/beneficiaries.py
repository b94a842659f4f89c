"""The beneficiary registry: create, read, list, update and roster import, always within the caller's scope."""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, or_, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from server.context import Ctx
from server.crypto import DataCipher
from server.db import PageRequest, fetch_page, savepoint, unit_of_work
from server.models import Beneficiary, Region, RegionLevel
from server.services import enrolment
from server.services.audit import Actor, record
from server.services.errors import DomainError, NotFound
from server.services.regions import in_scope, scope_bounds, within
from server.services.resident_id import InvalidResidentId, parse_resident_id

log = logging.getLogger(__name__)

# Fields a caller may set; the ID number is handled apart because it is stored encrypted and indexed.
EDITABLE_FIELDS = (
    "name",
    "program",
    "household_code",
    "village_code",
    "home_address",
    "home_lat",
    "home_lon",
    "phone",
    "monthly_amount",
)


def scoped_query(actor: Actor):
    """Beneficiaries the actor may see: a device its own person, staff their region."""
    query = select(Beneficiary)
    if actor.kind == "device":
        return query.where(Beneficiary.id == uuid.UUID(actor.beneficiary_id))
    return query.where(in_scope(Beneficiary.village_code, actor.region_code))


# scoped_query's two scopes with bound parameters, by kind of actor, for statements built once (a hot
# path's: their cache keys and compiled forms are reused); scope_parameters(actor) gives the values.
BOUND_SCOPE: dict[str, ColumnElement[bool]] = {
    "device": Beneficiary.id == bindparam("scope_person"),
    "staff": Beneficiary.village_code.between(bindparam("scope_first"), bindparam("scope_last")),
}


def scope_parameters(actor: Actor) -> dict[str, Any]:
    """The values of BOUND_SCOPE[actor.kind]'s parameters for this actor."""
    if actor.kind == "device":
        return {"scope_person": uuid.UUID(actor.beneficiary_id)}
    first, last = scope_bounds(actor.region_code)
    return {"scope_first": first, "scope_last": last}


def get_beneficiary(ctx: Ctx, *, actor: Actor, beneficiary_id: uuid.UUID) -> Beneficiary:
    """One beneficiary in scope; out of scope looks exactly like missing."""
    beneficiary = ctx.session.scalar(scoped_query(actor).where(Beneficiary.id == beneficiary_id))
    if beneficiary is None:
        raise NotFound("beneficiary not found", {"beneficiary_id": ["not_found"]})
    return beneficiary


def record_view(ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary) -> None:
    """Record that the actor saw this person's contact details."""
    record(
        ctx.session,
        actor=actor,
        action="beneficiary.viewed",
        object_type="beneficiary",
        object_id=beneficiary.id,
        region_code=beneficiary.village_code,
    )


def _check_village(ctx: Ctx, actor: Actor, village_code: str) -> None:
    region = ctx.session.get(Region, village_code)
    if region is None or region.level != RegionLevel.VILLAGE or not within(actor.region_code, village_code):
        raise DomainError.field("village_code", "unknown_village", "no such village in your region")


def _index_resident_id(cipher: DataCipher, raw: str) -> tuple[str, str, str]:
    try:
        resident = parse_resident_id(raw)
    except InvalidResidentId as exc:
        raise DomainError.field("id_number", exc.reason, "invalid resident ID number") from exc
    return resident.number, cipher.index(resident.number), resident.masked


def with_id_number_index(*indexes: str) -> ColumnElement[bool]:
    """SQL: the records, held or not, with one of these ID-number indexes. Written as two arms so each is
    served by its partial index (the unique one of records not held, ix_beneficiary_held of the others)."""
    matches = Beneficiary.id_number_index.in_(indexes)
    return or_(and_(matches, Beneficiary.duplicate_of.is_(None)), and_(matches, Beneficiary.duplicate_of.is_not(None)))


def find_by_id_number(ctx: Ctx, *, id_number: str, region_code: str) -> Beneficiary | None:
    """The beneficiary with this resident ID number inside the region (through its HMAC index), or None.

    A record held as a duplicate counts like any other, so a township finds its own held record the way it
    finds any of its people; a region holding both (a county) gets the record not held.
    """
    _number, index, _masked = _index_resident_id(ctx.cipher, id_number)
    return ctx.session.scalar(
        select(Beneficiary)
        .where(with_id_number_index(index), in_scope(Beneficiary.village_code, region_code))
        .order_by(Beneficiary.duplicate_of.is_not(None))
        .limit(1)
    )


def create_beneficiary(ctx: Ctx, *, actor: Actor, data: Mapping[str, Any]) -> Beneficiary:
    """Register a beneficiary in a village of the actor's region.

    An ID number the actor's region already holds is refused (they can see that record anyway). One on
    another region's rolls is registered all the same, held (`duplicate_of`) for the county to review
    (services.duplicate_registrations): the answer must not tell a township clerk that a number is
    registered somewhere else (see the README).
    """
    number, index, masked = _index_resident_id(ctx.cipher, data["id_number"])
    _check_village(ctx, actor, data["village_code"])
    found = ctx.session.execute(
        select(Beneficiary.id, Beneficiary.village_code, Beneficiary.duplicate_of).where(with_id_number_index(index))
    ).all()
    if any(within(actor.region_code, village) for _id, village, _of in found):
        raise DomainError.field("id_number", "already_registered", "this ID number is already registered")
    live = next((person_id for person_id, _village, of in found if of is None), None)
    beneficiary = Beneficiary(
        id_number=number,
        id_number_index=index,
        id_number_masked=masked,
        duplicate_of=live,
        **{name: data.get(name) for name in EDITABLE_FIELDS},
    )
    ctx.session.add(beneficiary)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="beneficiary.created",
        object_type="beneficiary",
        object_id=beneficiary.id,
        region_code=beneficiary.village_code,
    )
    return beneficiary


def update_beneficiary(
    ctx: Ctx, *, actor: Actor, beneficiary: Beneficiary, changes: Mapping[str, Any], reason: str | None = None
) -> list[str]:
    """Apply changes to editable fields; returns the names of the fields that changed."""
    if "village_code" in changes:
        _check_village(ctx, actor, changes["village_code"])
    changed = [name for name in EDITABLE_FIELDS if name in changes and getattr(beneficiary, name) != changes[name]]
    for name in changed:
        setattr(beneficiary, name, changes[name])
    if changed:
        record(
            ctx.session,
            actor=actor,
            action="beneficiary.updated",
            object_type="beneficiary",
            object_id=beneficiary.id,
            region_code=beneficiary.village_code,
            reason=reason,
            # Names only: the values may be identity data.
            details={"fields": changed},
        )
    return changed


@dataclass(frozen=True)
class ListFilters:
    program: str | None = None
    status: str | None = None
    region_code: str | None = None
    household_code: str | None = None
    name: str | None = None
    # Exact match through the HMAC index: the number itself is neither stored in clear nor logged.
    id_number: str | None = None
    # One of enrolment.ENROLMENT_STATES.
    enrolment: str | None = None


# The registry's order, which ix_beneficiary_list holds (scope column first).
LIST_ORDER = (Beneficiary.village_code, Beneficiary.name, Beneficiary.id)


def list_beneficiaries(
    ctx: Ctx,
    *,
    actor: Actor,
    filters: ListFilters,
    page: PageRequest,
) -> tuple[list[Beneficiary], int]:
    """A page of beneficiaries in scope, ordered by village then name, and the total count (see fetch_page)."""
    query = scoped_query(actor)
    if filters.id_number:
        _number, index, _masked = _index_resident_id(ctx.cipher, filters.id_number)
        query = query.where(Beneficiary.id_number_index == index)
    if filters.program:
        query = query.where(Beneficiary.program == filters.program)
    if filters.status:
        query = query.where(Beneficiary.status == filters.status)
    if filters.region_code:
        query = query.where(in_scope(Beneficiary.village_code, filters.region_code))
    if filters.household_code:
        query = query.where(Beneficiary.household_code == filters.household_code)
    if filters.name:
        query = query.where(Beneficiary.name.contains(filters.name, autoescape=True))
    if filters.enrolment:
        if filters.enrolment not in enrolment.ENROLMENT_STATES:
            raise DomainError.field("enrolment", "invalid")
        query = query.where(enrolment.in_enrolment_state(filters.enrolment, Beneficiary.id))
    return fetch_page(
        ctx.session,
        query,
        order_by=LIST_ORDER,
        page=page,
    )


def look_up_by_id_number(
    ctx: Ctx,
    *,
    actor: Actor,
    filters: ListFilters,
    page: PageRequest,
) -> tuple[list[Beneficiary], int]:
    """The list's page for a resident ID number (and the other filters), with the lookup audited.

    Whether a number is on the rolls is itself personal data (who lives on assistance), and a lookup
    aims at one person: the entry names who asked and whom it found, never the number.
    """
    if not filters.id_number:
        raise ValueError("a lookup needs an ID number; the list pages without one")
    items, total = list_beneficiaries(ctx, actor=actor, filters=filters, page=page)
    one = items[0] if len(items) == 1 else None
    record(
        ctx.session,
        actor=actor,
        action="beneficiary.looked_up",
        object_type="beneficiary",
        object_id=one.id if one else "list",
        region_code=one.village_code if one else actor.region_code,
        details={"found": [str(b.id) for b in items]},
    )
    return items, total


@dataclass
class ImportRowResult:
    row: int
    status: str
    beneficiary_id: uuid.UUID | None = None
    errors: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ImportReport:
    rows: list[ImportRowResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for row in self.rows if row.status == status)


IMPORT_BATCH = 1000


def import_roster(
    ctx: Ctx,
    *,
    actor: Actor,
    rows: Iterable[tuple[int, dict[str, Any] | dict[str, list[str]], bool]],
    on_row: Callable[[ImportRowResult], None] | None = None,
) -> ImportReport:
    """Create or update beneficiaries keyed by ID number, so importing a file twice changes nothing.

    `rows` yields (row number, data, valid); invalid rows carry their field errors instead of data.
    A bad row is reported and skipped; it never stops the rows after it. One unit of work per
    IMPORT_BATCH rows, so a long import keeps what it did if it stops half way: call it outside a unit.
    """
    report = ImportReport()
    iterator = iter(rows)
    while batch := list(itertools.islice(iterator, IMPORT_BATCH)):
        with unit_of_work(ctx.session):
            results = import_roster_batch(ctx, actor=actor, rows=batch)
        for result in results:
            report.rows.append(result)
            if on_row:
                on_row(result)
    return report


def import_roster_batch(
    ctx: Ctx, *, actor: Actor, rows: list[tuple[int, dict[str, Any], bool]]
) -> list[ImportRowResult]:
    """Import one batch in the caller's unit of work (flushes only); one result per row, in order.

    New people are inserted together and audited in one entry naming them all, and the existing
    ones are found with one query: per-row round trips made a 150,000-row roster take 13 minutes.
    Should the database refuse the batch, it is redone row by row, each in a savepoint, so the row
    at fault is reported and the others go in.
    """
    try:
        with savepoint(ctx.session):
            return _import_batch(ctx, actor, rows)
    except StatementError:
        log.warning("a roster batch was refused by the database; importing it row by row", exc_info=False)
    results = []
    for number, data, valid in rows:
        try:
            with savepoint(ctx.session):
                results.extend(_import_batch(ctx, actor, [(number, data, valid)]))
        except StatementError:
            results.append(error_row(number, {"_": ["rejected_by_database"]}))
    return results


def _import_batch(ctx: Ctx, actor: Actor, rows: list[tuple[int, dict[str, Any], bool]]) -> list[ImportRowResult]:
    session = ctx.session
    results: dict[int, ImportRowResult] = {}
    parsed: list[tuple[int, int, dict[str, Any], tuple[str, str, str]]] = []
    for position, (number, data, valid) in enumerate(rows):
        if not valid:
            results[position] = error_row(number, data)
            continue
        try:
            parsed.append((position, number, data, _index_resident_id(ctx.cipher, data["id_number"])))
        except DomainError as exc:
            results[position] = error_row(number, exc.errors)
    indexes = {identity[1] for *_, identity in parsed}
    # Per ID number: the record the importer's region holds (held or not), which a row updates, and the
    # record on the rolls anywhere (not held), which a new row in another region is held as a duplicate of.
    existing: dict[str, Beneficiary] = {}
    live: dict[str, uuid.UUID] = {}
    for b in session.scalars(select(Beneficiary).where(with_id_number_index(*indexes))) if indexes else ():
        if b.duplicate_of is None:
            live[b.id_number_index] = b.id
        if within(actor.region_code, b.village_code) and (b.duplicate_of is None or b.id_number_index not in existing):
            existing[b.id_number_index] = b
    villages = _villages_in_scope(session, actor, {data["village_code"] for _, _, data, _ in parsed})
    new_rows: list[Beneficiary] = []
    for position, number, data, (id_number, index, masked) in parsed:
        person = existing.get(index)
        if person is not None:
            results[position] = _update_from_row(ctx, actor, person, number, data)
        elif data["village_code"] not in villages:
            results[position] = error_row(number, {"village_code": ["unknown_village"]})
        else:
            person = Beneficiary(
                id=uuid.uuid4(),
                id_number=id_number,
                id_number_index=index,
                id_number_masked=masked,
                duplicate_of=live.get(index),
                **{name: data.get(name) for name in EDITABLE_FIELDS},
            )
            # A person twice in one file: the later row updates what the earlier one created.
            existing[index] = person
            new_rows.append(person)
            # Created, like any new person: the report must not tell the importer who is on other rolls.
            results[position] = ImportRowResult(row=number, status="created", beneficiary_id=person.id)
    if new_rows:
        session.add_all(new_rows)
        session.flush()
        record(
            session,
            actor=actor,
            action="beneficiary.imported",
            object_type="beneficiary",
            object_id=new_rows[0].id,
            region_code=actor.region_code,
            details={"created": [str(b.id) for b in new_rows]},
        )
    session.flush()
    return [results[position] for position in range(len(rows))]


def _villages_in_scope(session: Session, actor: Actor, codes: set[str]) -> set[str]:
    return set(
        session.scalars(
            select(Region.code).where(
                Region.code.in_(codes), Region.level == RegionLevel.VILLAGE, in_scope(Region.code, actor.region_code)
            )
        )
    )


def _update_from_row(
    ctx: Ctx, actor: Actor, person: Beneficiary, number: int, data: Mapping[str, Any]
) -> ImportRowResult:
    try:
        changed = update_beneficiary(ctx, actor=actor, beneficiary=person, changes=data, reason="roster import")
    except DomainError as exc:
        return error_row(number, exc.errors)
    return ImportRowResult(row=number, status="updated" if changed else "unchanged", beneficiary_id=person.id)


def error_row(number: int, errors: Mapping[str, Any]) -> ImportRowResult:
    flat = []
    for name, reasons in errors.items():
        for reason in reasons if isinstance(reasons, list) else [reasons]:
            flat.append({"field": name, "reason": str(reason)})
    return ImportRowResult(row=number, status="error", errors=flat)
