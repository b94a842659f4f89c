"""Home visits: records from offline devices, edits, photos, fraud signals, findings, proof of life, staff views."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from server.config import Settings
from server.db import fetch_page
from server.models import (
    Beneficiary,
    CaseKind,
    Checkin,
    CheckinState,
    StaffRole,
    StaffUser,
    Visit,
    VisitFlag,
    VisitFlagCode,
    VisitOutcome,
    VisitPhoto,
    VisitTask,
    VisitTaskState,
    utcnow,
)
from server.services import biometrics, cycles, visit_signals
from server.services.audit import Actor, record
from server.services.beneficiaries import get_beneficiary, scoped_query
from server.services.cases import open_case
from server.services.errors import Conflict, DomainError, Forbidden, NotFound
from server.services.regions import in_scope, within
from storage import ObjectStore
from worker.face.image import ImageRejected, content_type, decode_image

# The checklist a device fills in, by version: devices keep working on the version they were built for.
CHECKLIST_VERSIONS: dict[int, dict[str, dict[str, Any]]] = {
    1: {
        "present": {
            "type": "choices",
            "options": ["beneficiary", "spouse", "child", "parent", "other_relative", "carer", "nobody"],
            "label_zh": "在场人员",
            "label_en": "Who was present",
        },
        "living_conditions": {
            "type": "choice",
            "options": ["adequate", "basic", "poor"],
            "label_zh": "居住条件",
            "label_en": "Living conditions",
        },
        "household_members_changed": {
            "type": "bool",
            "label_zh": "家庭成员变化",
            "label_en": "Household members changed",
        },
        "income_changed": {"type": "bool", "label_zh": "收入变化", "label_en": "Income changed"},
        "employment_changed": {"type": "bool", "label_zh": "就业变化", "label_en": "Employment changed"},
        "vehicle_changed": {"type": "bool", "label_zh": "车辆变化", "label_en": "Vehicles acquired or sold"},
        "housing_changed": {"type": "bool", "label_zh": "住房变化", "label_en": "Housing changed"},
        "health": {
            "type": "choice",
            "options": ["good", "chronic_illness", "disabled", "bedridden", "hospitalised"],
            "label_zh": "健康状况",
            "label_en": "Health",
        },
        "changes_note": {
            "type": "text",
            "optional": True,
            "max_length": 500,
            "label_zh": "变化说明",
            "label_en": "About the changes",
        },
    }
}
# A household visit cannot report a death: that concerns one named person.
HOUSEHOLD_OUTCOMES = {
    VisitOutcome.CONFIRMED_PRESENT,
    VisitOutcome.ABSENT,
    VisitOutcome.MOVED_AWAY,
    VisitOutcome.REFUSED,
}
EDITABLE_FIELDS = ("outcome", "checklist_version", "checklist", "notes", "ended_at")
# Outside the worker's scope looks exactly like missing, so a worker learns nothing about other regions.
NOT_IN_YOUR_REGION = {"beneficiary_id": ["not_in_your_region"]}


class PayloadTooLarge(DomainError):
    status = 413


@dataclass
class ItemResult:
    """What happened to one submitted visit: created, duplicate, updated or rejected (with reasons)."""

    status: str
    client_id: str | None = None
    visit: Visit | None = None
    http_status: int = 200
    errors: dict[str, list[str]] = field(default_factory=dict)

    def as_error(self) -> DomainError:
        error = DomainError("the visit was not accepted", self.errors)
        error.status = self.http_status
        return error


def _checklist_errors(version: Any, answers: Mapping[str, Any]) -> dict[str, list[str]]:
    definition = CHECKLIST_VERSIONS.get(version)
    if definition is None:
        return {"checklist_version": ["unknown_checklist_version"]}
    errors: dict[str, list[str]] = {}
    for name in answers.keys() - definition.keys():
        errors[f"checklist.{name}"] = ["unknown_question"]
    for name, question in definition.items():
        if name not in answers:
            if not question.get("optional"):
                errors[f"checklist.{name}"] = ["required"]
            continue
        if not _answer_ok(question, answers[name]):
            errors[f"checklist.{name}"] = ["invalid_answer"]
    return errors


def _answer_ok(question: Mapping[str, Any], answer: Any) -> bool:
    kind = question["type"]
    if kind == "bool":
        return isinstance(answer, bool)
    if kind == "choice":
        return answer in question["options"]
    if kind == "choices":
        return isinstance(answer, list) and bool(answer) and all(a in question["options"] for a in answer)
    return isinstance(answer, str) and len(answer) <= question["max_length"]


def _fix_json(fix: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "lat": fix["lat"],
        "lon": fix["lon"],
        "accuracy_m": fix["accuracy_m"],
        "fix_time": fix["fix_time"].astimezone(UTC).isoformat(),
        "provider": fix.get("provider"),
        "mock_location": bool(fix.get("mock_location", False)),
    }


def _validate_visit(data: Mapping[str, Any]) -> None:
    errors = _checklist_errors(data["checklist_version"], data["checklist"])
    if data["ended_at"] < data["started_at"]:
        errors["ended_at"] = ["ends_before_start"]
    if data.get("household_code") and data["outcome"] not in HOUSEHOLD_OUTCOMES:
        errors["outcome"] = ["needs_beneficiary_id"]
    if errors:
        raise DomainError("the visit record is not valid", errors)


def _household_members(session: Session, actor: Actor, household_code: str) -> list[Beneficiary]:
    return list(
        session.scalars(
            scoped_query(actor).where(Beneficiary.household_code == household_code).order_by(Beneficiary.id)
        )
    )


def _members(session: Session, visit: Visit) -> list[Beneficiary]:
    """The people a visit concerns: its beneficiary, or the household's members in the visit's village."""
    if visit.beneficiary_id is not None:
        return [session.get(Beneficiary, visit.beneficiary_id)]
    return list(
        session.scalars(
            select(Beneficiary)
            .where(Beneficiary.household_code == visit.household_code, Beneficiary.village_code == visit.region_code)
            .order_by(Beneficiary.id)
        )
    )


def _find(session: Session, actor: Actor, client_id: str) -> Visit | None:
    return session.scalar(
        select(Visit).where(Visit.field_worker_id == uuid.UUID(actor.id), Visit.client_id == client_id)
    )


def _stored(visit: Visit, client_id: str, status: str) -> ItemResult:
    if visit.quarantined:
        # A retry gets the same answer as the first try, and still nothing about the person.
        return ItemResult("rejected", client_id, http_status=404, errors=NOT_IN_YOUR_REGION)
    return ItemResult(status, client_id, visit, http_status=201 if status == "created" else 200)


def record_visit(
    session: Session, settings: Settings, *, actor: Actor, data: Mapping[str, Any], device_sent_at: datetime | None
) -> ItemResult:
    """Store one visit with its signals and findings, or say why not. Commits; a resubmission changes nothing."""
    client_id = data["client_id"]
    # One worker's visits are recorded one at a time, so each sees the neighbours its signals compare with.
    session.scalar(select(StaffUser.id).where(StaffUser.id == uuid.UUID(actor.id)).with_for_update())
    existing = _find(session, actor, client_id)
    if existing is not None:
        session.rollback()
        return _stored(existing, client_id, "duplicate")
    try:
        _validate_visit(data)
        visit = _create(session, settings, actor=actor, data=data, device_sent_at=device_sent_at)
        session.commit()
    except DomainError as exc:
        session.rollback()
        return ItemResult("rejected", client_id, http_status=exc.status, errors=exc.errors)
    except IntegrityError:
        # The same client id arrived twice at once (a retry racing the first try): the other one stored it.
        session.rollback()
        existing = _find(session, actor, client_id)
        if existing is None:
            raise
        return _stored(existing, client_id, "duplicate")
    return _stored(visit, client_id, "created")


def _create(
    session: Session, settings: Settings, *, actor: Actor, data: Mapping[str, Any], device_sent_at: datetime | None
) -> Visit:
    quarantined = False
    if data.get("beneficiary_id") is not None:
        beneficiary = session.get(Beneficiary, data["beneficiary_id"])
        if beneficiary is None:
            raise NotFound("no such beneficiary in your region", NOT_IN_YOUR_REGION)
        # Kept for review rather than lost: a worker recording visits outside their region is itself a finding.
        quarantined = not within(actor.region_code, beneficiary.village_code)
        members = [beneficiary]
        household_code = beneficiary.household_code
    else:
        household_code = data["household_code"]
        members = _household_members(session, actor, household_code)
        if not members:
            raise NotFound("no such household in your region", {"household_code": ["not_in_your_region"]})
    visit = Visit(
        id=uuid.uuid4(),
        field_worker_id=uuid.UUID(actor.id),
        client_id=data["client_id"],
        beneficiary_id=data.get("beneficiary_id"),
        household_code=household_code,
        region_code=members[0].village_code,
        worker_region_code=actor.region_code,
        started_at=data["started_at"],
        ended_at=data["ended_at"],
        received_at=utcnow(),
        device_sent_at=device_sent_at,
        gps_fixes=[_fix_json(f) for f in data["gps"]],
        checklist_version=data["checklist_version"],
        checklist=dict(data["checklist"]),
        outcome=data["outcome"],
        notes=data.get("notes"),
        device_info=dict(data.get("device") or {}),
        quarantined=quarantined,
    )
    session.add(visit)
    session.flush()
    record(
        session,
        actor=actor,
        action="visit.recorded",
        object_type="visit",
        object_id=visit.id,
        region_code=visit.region_code,
        details={"outcome": visit.outcome.value, "client_id": visit.client_id},
    )
    _raise_flags(session, settings, actor, visit, members[0])
    if not quarantined:
        _findings(session, settings, actor, visit, members)
        _complete_tasks(session, actor, visit, members)
    return visit


def _complete_tasks(session: Session, actor: Actor, visit: Visit, members: list[Beneficiary]) -> None:
    """A visit by the worker a supervisor sent does the ordered task, whatever it found."""
    tasks = session.scalars(
        select(VisitTask).where(
            VisitTask.beneficiary_id.in_([m.id for m in members]),
            VisitTask.field_worker_id == visit.field_worker_id,
            VisitTask.state == VisitTaskState.OPEN,
        )
    ).all()
    for task in tasks:
        task.state, task.done_at, task.visit_id = VisitTaskState.DONE, visit.received_at, visit.id
        record(
            session,
            actor=actor,
            action="visit_task.done",
            object_type="visit_task",
            object_id=task.id,
            region_code=task.region_code,
            details={"visit_id": str(visit.id), "case_id": str(task.case_id) if task.case_id else None},
        )


# ---------------------------------------------------------------------------------------------
# Signals


def _place(visit: Visit, home: Beneficiary | None) -> visit_signals.Place:
    fixes = tuple(
        visit_signals.Fix(
            lat=f["lat"],
            lon=f["lon"],
            accuracy_m=f["accuracy_m"],
            fix_time=datetime.fromisoformat(f["fix_time"]),
            mock_location=f["mock_location"],
        )
        for f in visit.gps_fixes
    )
    has_home = home is not None and home.home_lat is not None and home.home_lon is not None
    return visit_signals.Place(
        visit_id=visit.id,
        household=visit.household_code or str(visit.beneficiary_id),
        started_at=visit.started_at,
        ended_at=visit.ended_at,
        fixes=fixes,
        home=(home.home_lat, home.home_lon) if has_home else None,
    )


def _place_of(session: Session, visit: Visit) -> visit_signals.Place:
    """A stored visit as the signals see it; a household's first member's home stands for the household's."""
    members = _members(session, visit)
    return _place(visit, members[0] if members else None)


def _neighbour(session: Session, visit: Visit, *, later: bool) -> Visit | None:
    query = select(Visit).where(Visit.field_worker_id == visit.field_worker_id, Visit.id != visit.id)
    if later:
        query = query.where(Visit.started_at >= visit.started_at).order_by(Visit.started_at, Visit.id)
    else:
        query = query.where(Visit.started_at <= visit.started_at).order_by(Visit.started_at.desc(), Visit.id)
    return session.scalar(query.limit(1))


def _raise_flags(session: Session, settings: Settings, actor: Actor, visit: Visit, subject: Beneficiary) -> None:
    limits = settings.visits
    window = timedelta(minutes=limits.cluster_window_minutes)
    nearby = list(
        session.scalars(
            select(Visit).where(
                Visit.field_worker_id == visit.field_worker_id,
                Visit.id != visit.id,
                Visit.started_at.between(visit.started_at - window, visit.started_at + window),
            )
        )
    )
    before, after = _neighbour(session, visit, later=False), _neighbour(session, visit, later=True)
    signals = visit_signals.assess(
        _place(visit, subject),
        before=_place_of(session, before) if before else None,
        after=_place_of(session, after) if after else None,
        nearby=[_place_of(session, v) for v in nearby],
        received_at=visit.received_at,
        device_sent_at=visit.device_sent_at,
        worker_region=actor.region_code,
        village_code=subject.village_code,
        limits=limits,
    )
    for signal in signals:
        _flag(session, actor, visit, signal.code, signal.details)
        for partner_id in signal.partners:
            _flag(session, actor, session.get(Visit, partner_id), signal.code, {"with_visit_id": str(visit.id)})


def _flag(session: Session, actor: Actor, visit: Visit, code: VisitFlagCode, details: dict[str, Any]) -> None:
    """Put a flag on a visit (once) and make sure a location_anomaly case is open for it."""
    exists = session.scalar(select(VisitFlag.id).where(VisitFlag.visit_id == visit.id, VisitFlag.code == code))
    if exists is not None:
        return
    session.add(VisitFlag(visit_id=visit.id, code=code, details=details, raised_at=utcnow()))
    session.flush()
    record(
        session,
        actor=actor,
        action="visit.flagged",
        object_type="visit",
        object_id=visit.id,
        region_code=visit.region_code,
        details={"flag": code.value},
    )
    subject = session.get(Beneficiary, visit.beneficiary_id) if visit.beneficiary_id else _members(session, visit)[0]
    open_case(
        session,
        kind=CaseKind.LOCATION_ANOMALY,
        beneficiary=subject,
        dedupe_key=f"location_anomaly:visit:{visit.id}",
        summary="A home visit's location or timing looks wrong: check that the visit really happened",
        details={"visit_id": str(visit.id), "field_worker_id": str(visit.field_worker_id), "first_flag": code.value},
        actor=actor,
    )


# ---------------------------------------------------------------------------------------------
# Findings


def _findings(session: Session, settings: Settings, actor: Actor, visit: Visit, members: list[Beneficiary]) -> None:
    """Open the cases an outcome calls for; each is idempotent, so an edit or a retry opens none twice."""
    base = {
        "visit_id": str(visit.id),
        "field_worker_id": str(visit.field_worker_id),
        "visited_on": visit.started_at.date().isoformat(),
        "finding": visit.outcome.value,
    }
    if visit.outcome == VisitOutcome.DECEASED:
        open_case(
            session,
            kind=CaseKind.VISIT_FINDING,
            beneficiary=members[0],
            dedupe_key=f"visit_finding:{visit.id}:deceased",
            summary="A field worker found this person deceased: confirm the death and terminate the assistance",
            details={**base, "proposed_action": "terminate"},
            actor=actor,
        )
    elif visit.outcome == VisitOutcome.MOVED_AWAY:
        for member in members:
            open_case(
                session,
                kind=CaseKind.VISIT_FINDING,
                beneficiary=member,
                dedupe_key=f"visit_finding:{visit.id}:moved_away:{member.id}",
                summary="A field worker found that this person moved away: review where they live and qualify",
                details={**base, "proposed_action": "review_eligibility"},
                actor=actor,
            )
    elif visit.outcome == VisitOutcome.ABSENT:
        zone = cycles.office_zone(settings)
        for member in members:
            period = cycles.period_for(session, member, visit.started_at.astimezone(zone).date(), zone)
            absences = _absences(session, member, period)
            if len(absences) < 2:
                continue
            open_case(
                session,
                kind=CaseKind.VISIT_FINDING,
                beneficiary=member,
                dedupe_key=f"visit_finding:absent:{member.id}:{period.key}",
                summary=f"Not at home on {len(absences)} visits this cycle: find out whether they still live here",
                details={
                    **base,
                    "cycle": period.key,
                    "absent_visit_ids": [str(v) for v in absences],
                    "proposed_action": "review_eligibility",
                },
                actor=actor,
            )


def _about(member: Beneficiary):
    """Visits that concern a person: to them, or to their household without naming anyone."""
    own = Visit.beneficiary_id == member.id
    if member.household_code is None:
        return own
    household = (
        Visit.beneficiary_id.is_(None)
        & (Visit.household_code == member.household_code)
        & (Visit.region_code == member.village_code)
    )
    return or_(own, household)


def _absences(session: Session, member: Beneficiary, period: cycles.Period) -> list[uuid.UUID]:
    start, end = period.start, period.end
    return list(
        session.scalars(
            select(Visit.id)
            .where(
                _about(member),
                Visit.outcome == VisitOutcome.ABSENT,
                Visit.quarantined.is_(False),
                Visit.started_at >= start,
                Visit.started_at < end,
            )
            .order_by(Visit.started_at)
        )
    )


# ---------------------------------------------------------------------------------------------
# Edits


def _edit_digest(based_on_version: int, changes: Mapping[str, Any]) -> str:
    body = {"based_on_version": based_on_version, **changes}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def edit_visit(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    visit: Visit,
    based_on_version: int,
    changes: Mapping[str, Any],
) -> str:
    """Apply an edit made on the device to the version it read. Commits; returns "updated" or "duplicate".

    An edit based on an older version is refused (409 stale_version), except the retry of the edit that
    made the current version, which changes nothing.
    """
    if visit.field_worker_id != uuid.UUID(actor.id):
        raise Forbidden("only the worker who recorded a visit may edit it", {"_": ["not_your_visit"]})
    changes = {k: v for k, v in changes.items() if k in EDITABLE_FIELDS}
    digest = _edit_digest(based_on_version, changes)
    if based_on_version != visit.version:
        if based_on_version == visit.version - 1 and digest == visit.last_edit_digest:
            return "duplicate"
        raise Conflict(
            f"the visit is at version {visit.version}; read it again and redo the edit",
            {"based_on_version": ["stale_version"]},
        )
    merged = {
        "checklist_version": visit.checklist_version,
        "checklist": visit.checklist,
        "started_at": visit.started_at,
        "ended_at": visit.ended_at,
        "household_code": visit.household_code if visit.beneficiary_id is None else None,
        "outcome": visit.outcome,
        **changes,
    }
    _validate_visit(merged)
    changed = [name for name in EDITABLE_FIELDS if name in changes and getattr(visit, name) != changes[name]]
    for name in changed:
        setattr(visit, name, changes[name])
    # Always written, so even an edit that changes nothing moves the version on and the device's copy agrees.
    visit.last_edit_digest = digest
    try:
        session.flush()
    except StaleDataError as exc:
        session.rollback()
        raise Conflict("the visit changed while you edited it", {"based_on_version": ["stale_version"]}) from exc
    record(
        session,
        actor=actor,
        action="visit.edited",
        object_type="visit",
        object_id=visit.id,
        region_code=visit.region_code,
        details={"fields": changed, "version": visit.version},
    )
    if "outcome" in changed and not visit.quarantined:
        _findings(session, settings, actor, visit, _members(session, visit))
    session.commit()
    return "updated"


def edit_by_client_id(
    session: Session,
    settings: Settings,
    *,
    actor: Actor,
    client_id: str,
    based_on_version: int,
    changes: Mapping[str, Any],
) -> ItemResult:
    """A batch item that edits a visit the device synced earlier, named by its client id."""
    visit = _find(session, actor, client_id)
    if visit is None or visit.quarantined:
        return ItemResult("rejected", client_id, http_status=404, errors={"client_id": ["visit_not_found"]})
    try:
        status = edit_visit(
            session, settings, actor=actor, visit=visit, based_on_version=based_on_version, changes=changes
        )
    except DomainError as exc:
        session.rollback()
        return ItemResult("rejected", client_id, http_status=exc.status, errors=exc.errors)
    return ItemResult(status, client_id, visit)


# ---------------------------------------------------------------------------------------------
# Batch sync


@dataclass(frozen=True)
class BatchItem:
    """One item of a sync: a new visit, an edit (it carries based_on_version), or what made it invalid."""

    client_id: str | None
    data: Mapping[str, Any] | None = None
    errors: dict[str, list[str]] | None = None

    @property
    def is_edit(self) -> bool:
        return self.data is not None and "based_on_version" in self.data


def check_batch_size(settings: Settings, count: int) -> None:
    limit = settings.visits.batch_limit
    if count > limit:
        raise PayloadTooLarge(f"send at most {limit} visits per sync", {"visits": ["batch_too_large"]})


def sync_batch(
    session: Session, settings: Settings, *, actor: Actor, items: list[BatchItem], device_sent_at: datetime | None
) -> list[ItemResult]:
    """Apply each item in its own transaction: a bad item is reported and never sinks the others.

    Every accepted item is committed before the next one starts, so a dropped connection loses nothing
    and sending the same batch again gives the same visits back.
    """
    check_batch_size(settings, len(items))
    results = []
    for item in items:
        if item.errors is not None:
            results.append(ItemResult("rejected", item.client_id, http_status=422, errors=item.errors))
        elif item.is_edit:
            changes = {k: v for k, v in item.data.items() if k not in ("client_id", "based_on_version")}
            results.append(
                edit_by_client_id(
                    session,
                    settings,
                    actor=actor,
                    client_id=item.client_id,
                    based_on_version=item.data["based_on_version"],
                    changes=changes,
                )
            )
        else:
            sent = item.data.get("device_sent_at") or device_sent_at
            results.append(record_visit(session, settings, actor=actor, data=item.data, device_sent_at=sent))
    return results


# ---------------------------------------------------------------------------------------------
# Photos


def add_photos(
    session: Session, store: ObjectStore, settings: Settings, *, actor: Actor, visit: Visit, photos: list[bytes]
) -> list[VisitPhoto]:
    """Check, encrypt and store a visit's photos; all or nothing, and a photo sent again is stored once. Commits."""
    if visit.field_worker_id != uuid.UUID(actor.id):
        raise Forbidden("only the worker who recorded a visit may add its photos", {"_": ["not_your_visit"]})
    errors: dict[str, list[str]] = {}
    checked = []
    for position, data in enumerate(photos):
        try:
            rgb = decode_image(data, max_bytes=settings.uploads.max_bytes, max_pixels=settings.uploads.max_pixels)
        except ImageRejected as exc:
            errors[f"photos.{position}"] = [exc.code]
            continue
        checked.append((data, hashlib.sha256(data).hexdigest(), rgb.shape[1], rgb.shape[0]))
    if errors:
        raise DomainError("one or more photos cannot be used", errors)
    known = set(session.scalars(select(VisitPhoto.sha256).where(VisitPhoto.visit_id == visit.id)))
    new = {sha: (data, width, height) for data, sha, width, height in checked if sha not in known}
    if len(known) + len(new) > settings.visits.max_photos:
        raise DomainError.field("photos", "too_many_photos", f"at most {settings.visits.max_photos} photos a visit")
    stored: list[str] = []
    try:
        for sha, (data, width, height) in new.items():
            photo = VisitPhoto(
                id=uuid.uuid4(),
                visit_id=visit.id,
                sha256=sha,
                content_type=content_type(data),
                width=width,
                height=height,
                created_at=utcnow(),
            )
            photo.object_key = f"visits/{visit.id}/{photo.id}"
            biometrics.put(store, photo.object_key, data)
            stored.append(photo.object_key)
            session.add(photo)
        if new:
            record(
                session,
                actor=actor,
                action="visit.photos_added",
                object_type="visit",
                object_id=visit.id,
                region_code=visit.region_code,
                details={"photos": len(new)},
            )
        session.commit()
    except IntegrityError:
        # The same photo arrived twice at once: the other request stored it.
        session.rollback()
        _discard(store, stored)
    except BaseException:
        session.rollback()
        _discard(store, stored)
        raise
    return photos_of(session, [visit.id])[visit.id]


def _discard(store: ObjectStore, keys: list[str]) -> None:
    for key in keys:
        biometrics.discard(store, key)


def read_photo(
    session: Session, store: ObjectStore, *, actor: Actor, visit: Visit, photo_id: uuid.UUID, reason: str
) -> tuple[bytes, str]:
    """A visit photo for a person to look at; the view and its reason go to the audit log."""
    photo = session.scalar(select(VisitPhoto).where(VisitPhoto.id == photo_id, VisitPhoto.visit_id == visit.id))
    if photo is None:
        raise NotFound("photo not found", {"photo_id": ["not_found"]})
    data = biometrics.read_for_person(
        session,
        store,
        actor=actor,
        key=photo.object_key,
        object_type="visit_photo",
        object_id=str(photo.id),
        region_code=visit.region_code,
        reason=reason,
    )
    return data, photo.content_type


# ---------------------------------------------------------------------------------------------
# Reading


def _visible(actor: Actor):
    """Visits a staff member may see: a worker their own; others those of their region's people or team."""
    if actor.role == StaffRole.FIELD_WORKER:
        return (Visit.field_worker_id == uuid.UUID(actor.id)) & Visit.quarantined.is_(False)
    return or_(in_scope(Visit.region_code, actor.region_code), in_scope(Visit.worker_region_code, actor.region_code))


def get_visit(session: Session, *, actor: Actor, visit_id: uuid.UUID) -> Visit:
    visit = session.scalar(select(Visit).where(Visit.id == visit_id, _visible(actor)))
    if visit is None:
        raise NotFound("visit not found", {"visit_id": ["not_found"]})
    return visit


def list_visits(
    session: Session, *, actor: Actor, filters: Mapping[str, Any], offset: int, limit: int
) -> tuple[list[Visit], int]:
    """Visits the actor may see, newest first, filtered by region, worker, period, outcome and flag."""
    query = select(Visit).where(_visible(actor))
    if filters.get("region_code"):
        query = query.where(in_scope(Visit.region_code, filters["region_code"]))
    if filters.get("worker_id"):
        query = query.where(Visit.field_worker_id == filters["worker_id"])
    if filters.get("started_from"):
        query = query.where(Visit.started_at >= filters["started_from"])
    if filters.get("started_to"):
        query = query.where(Visit.started_at < filters["started_to"])
    if filters.get("outcome"):
        query = query.where(Visit.outcome == filters["outcome"])
    if filters.get("flag"):
        query = query.where(Visit.id.in_(select(VisitFlag.visit_id).where(VisitFlag.code == filters["flag"])))
    if filters.get("flagged") is not None:
        flagged = Visit.id.in_(select(VisitFlag.visit_id))
        query = query.where(flagged if filters["flagged"] else ~flagged)
    return fetch_page(session, query, order_by=(Visit.started_at.desc(), Visit.id), offset=offset, limit=limit)


def beneficiary_visits(
    session: Session, *, actor: Actor, beneficiary_id: uuid.UUID, offset: int, limit: int
) -> tuple[list[Visit], int]:
    """A person's visit history, their household's visits included, newest first."""
    beneficiary = get_beneficiary(session, actor=actor, beneficiary_id=beneficiary_id)
    query = select(Visit).where(_visible(actor), _about(beneficiary))
    return fetch_page(session, query, order_by=(Visit.started_at.desc(), Visit.id), offset=offset, limit=limit)


def photos_of(session: Session, visit_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[VisitPhoto]]:
    photos: dict[uuid.UUID, list[VisitPhoto]] = {v: [] for v in visit_ids}
    for photo in session.scalars(
        select(VisitPhoto).where(VisitPhoto.visit_id.in_(visit_ids)).order_by(VisitPhoto.created_at, VisitPhoto.id)
    ):
        photos[photo.visit_id].append(photo)
    return photos


def shown_to(session: Session, *, actor: Actor, visits: list[Visit]) -> list[dict[str, Any]]:
    """The visits' views for a reader, with the read audited (GPS at a home, health answers); commits.

    One entry per response, naming every visit in it: a page of fifty is one chained entry, not fifty.
    """
    shown = views(session, visits)
    if not visits:
        return shown
    record(
        session,
        actor=actor,
        action="visit.viewed",
        object_type="visit",
        object_id=visits[0].id if len(visits) == 1 else "list",
        region_code=visits[0].region_code if len(visits) == 1 else actor.region_code,
        details={"visit_ids": [str(v.id) for v in visits]},
    )
    session.commit()
    return shown


def views(session: Session, visits: list[Visit]) -> list[dict[str, Any]]:
    """Visits with their flags, photos, linked check-ins and whether they prove the person alive."""
    ids = [v.id for v in visits]
    flags: dict[uuid.UUID, list[VisitFlag]] = defaultdict(list)
    for flag in session.scalars(select(VisitFlag).where(VisitFlag.visit_id.in_(ids)).order_by(VisitFlag.id)):
        flags[flag.visit_id].append(flag)
    checkins: dict[uuid.UUID, list[Checkin]] = defaultdict(list)
    for checkin in session.scalars(select(Checkin).where(Checkin.visit_id.in_(ids)).order_by(Checkin.created_at)):
        checkins[checkin.visit_id].append(checkin)
    photos = photos_of(session, ids)
    return [
        {
            "visit": v,
            "flags": flags[v.id],
            "photos": photos[v.id],
            "checkins": checkins[v.id],
            "proof_of_life": _proves_life(v, checkins[v.id]),
        }
        for v in visits
    ]


def _proves_life(visit: Visit, checkins: list[Checkin]) -> bool:
    return visit.outcome == VisitOutcome.CONFIRMED_PRESENT and any(c.state == CheckinState.VERIFIED for c in checkins)


def team_stats(
    session: Session,
    *,
    actor: Actor,
    started_from: datetime | None,
    started_to: datetime | None,
    region_code: str | None,
) -> list[dict[str, Any]]:
    """Per field worker in the actor's region: visits in the period, how many were flagged, and by which flag."""
    workers = select(StaffUser).where(
        StaffUser.role == StaffRole.FIELD_WORKER, in_scope(StaffUser.region_code, actor.region_code)
    )
    if region_code:
        workers = workers.where(in_scope(StaffUser.region_code, region_code))
    team = list(session.scalars(workers.order_by(StaffUser.region_code, StaffUser.username)))
    period = [Visit.field_worker_id.in_([w.id for w in team])]
    if started_from:
        period.append(Visit.started_at >= started_from)
    if started_to:
        period.append(Visit.started_at < started_to)
    totals = dict(
        session.execute(
            select(Visit.field_worker_id, func.count()).where(*period).group_by(Visit.field_worker_id)
        ).all()
    )
    flagged = dict(
        session.execute(
            select(Visit.field_worker_id, func.count(func.distinct(Visit.id)))
            .join(VisitFlag, VisitFlag.visit_id == Visit.id)
            .where(*period)
            .group_by(Visit.field_worker_id)
        ).all()
    )
    by_flag: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for worker_id, code, count in session.execute(
        select(Visit.field_worker_id, VisitFlag.code, func.count())
        .join(VisitFlag, VisitFlag.visit_id == Visit.id)
        .where(*period)
        .group_by(Visit.field_worker_id, VisitFlag.code)
    ):
        by_flag[worker_id][code.value] = count
    return [
        {
            "worker_id": w.id,
            "username": w.username,
            "display_name": w.display_name,
            "region_code": w.region_code,
            "visits": totals.get(w.id, 0),
            "flagged": flagged.get(w.id, 0),
            "flag_rate": round(flagged.get(w.id, 0) / totals[w.id], 4) if totals.get(w.id) else 0.0,
            "by_flag": by_flag.get(w.id, {}),
        }
        for w in team
    ]
