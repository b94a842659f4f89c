"""The beneficiary registry: create, read, list, update and roster import, always within the caller's scope."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import select

from server.context import Ctx
from server.crypto import DataCipher
from server.db import fetch_page, unit_of_work
from server.models import Beneficiary, Region, RegionLevel
from server.services.audit import Actor, record
from server.services.errors import DomainError, NotFound
from server.services.regions import in_scope, within
from server.services.resident_id import InvalidResidentId, parse_resident_id

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


def find_by_id_number(ctx: Ctx, *, id_number: str) -> Beneficiary | None:
    """Look a beneficiary up by resident ID number through its HMAC index, ignoring scope."""
    _number, index, _masked = _index_resident_id(ctx.cipher, id_number)
    return ctx.session.scalar(select(Beneficiary).where(Beneficiary.id_number_index == index))


def create_beneficiary(ctx: Ctx, *, actor: Actor, data: Mapping[str, Any]) -> Beneficiary:
    """Register a beneficiary in a village of the actor's region; the ID number must be new."""
    number, index, masked = _index_resident_id(ctx.cipher, data["id_number"])
    _check_village(ctx, actor, data["village_code"])
    if ctx.session.scalar(select(Beneficiary.id).where(Beneficiary.id_number_index == index)) is not None:
        raise DomainError.field("id_number", "already_registered", "this ID number is already registered")
    beneficiary = Beneficiary(
        id_number=number,
        id_number_index=index,
        id_number_masked=masked,
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


def list_beneficiaries(
    ctx: Ctx, *, actor: Actor, filters: ListFilters, offset: int, limit: int
) -> tuple[list[Beneficiary], int]:
    """A page of beneficiaries in scope, ordered by village then name, and the total count."""
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
    return fetch_page(
        ctx.session,
        query,
        order_by=(Beneficiary.village_code, Beneficiary.name, Beneficiary.id),
        offset=offset,
        limit=limit,
    )


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


ROW_COMMIT_EVERY = 200


def import_roster(
    ctx: Ctx,
    *,
    actor: Actor,
    rows: Iterable[tuple[int, dict[str, Any] | dict[str, list[str]], bool]],
    on_row: Callable[[ImportRowResult], None] | None = None,
) -> ImportReport:
    """Create or update beneficiaries row by row, keyed by ID number, so importing a file twice changes nothing.

    `rows` yields (row number, data, valid); invalid rows carry their field errors instead of data.
    A bad row is reported and skipped; it never stops the rows after it. One unit of work per
    ROW_COMMIT_EVERY rows, so a long import keeps what it did if it stops half way.
    """
    report = ImportReport()
    rows = iter(rows)
    while chunk := list(islice(rows, ROW_COMMIT_EVERY)):
        with unit_of_work(ctx.session):
            for number, data, valid in chunk:
                result = _import_row(ctx, actor, number, data) if valid else error_row(number, data)
                report.rows.append(result)
                if on_row:
                    on_row(result)
    return report


def error_row(number: int, errors: Mapping[str, Any]) -> ImportRowResult:
    flat = []
    for name, reasons in errors.items():
        for reason in reasons if isinstance(reasons, list) else [reasons]:
            flat.append({"field": name, "reason": str(reason)})
    return ImportRowResult(row=number, status="error", errors=flat)


def _import_row(ctx: Ctx, actor: Actor, number: int, data: Mapping[str, Any]) -> ImportRowResult:
    try:
        existing = find_by_id_number(ctx, id_number=data["id_number"])
        if existing is None:
            created = create_beneficiary(ctx, actor=actor, data=data)
            return ImportRowResult(row=number, status="created", beneficiary_id=created.id)
        if not within(actor.region_code, existing.village_code):
            raise DomainError.field("id_number", "registered_elsewhere", "registered in another region")
        changed = update_beneficiary(ctx, actor=actor, beneficiary=existing, changes=data, reason="roster import")
        ctx.session.flush()
        return ImportRowResult(row=number, status="updated" if changed else "unchanged", beneficiary_id=existing.id)
    except DomainError as exc:
        return error_row(number, exc.errors)
