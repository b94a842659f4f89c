"""Check-ins from the phone's side: challenges, submissions, failure limits and what the device is told."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from sqlalchemy import ColumnElement, Insert, ScalarSelect, Select, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from server.config import Settings
from server.context import Ctx
from server.db import PageRequest, fetch_page, insert_as_loaded
from server.models import (
    Beneficiary,
    BeneficiaryStatus,
    Checkin,
    CheckinChallenge,
    CheckinFrame,
    CheckinMode,
    CheckinState,
    EnrolmentPhoto,
    FaceTemplate,
    PhotoState,
    Visit,
    utcnow,
)
from server.services import biometrics, consent, terminations
from server.services.audit import Actor, record
from server.services.beneficiaries import BOUND_SCOPE, scope_parameters, scoped_query
from server.services.errors import Conflict, DomainError, Forbidden, NotFound
from server.services.regions import in_scope as region_scope
from server.sqlfuncs import insert_ignoring_conflicts

# The face library's light sequence and image checks (numpy, Pillow) load in the functions that use
# them: the API must start without them.

VERIFY_TASK = "fieldcheck.verify_checkin"

PROMPTS = {
    "blink": ("请闭上眼睛，再睁开", "Close your eyes, then open them"),
    "turn_left": ("请慢慢向左转头，再转回来", "Slowly turn your head to the left, then back"),
    "turn_right": ("请慢慢向右转头，再转回来", "Slowly turn your head to the right, then back"),
    "open_mouth": ("请张开嘴，再合上", "Open your mouth, then close it"),
    "nod": ("请慢慢点头", "Slowly nod your head"),
}


class Gone(DomainError):
    status = 410


class Locked(DomainError):
    status = 429

    def __init__(self, until: datetime) -> None:
        super().__init__("too many failed check-ins; try again later", {"_": ["locked_out"]})
        self.until = until

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, int((self.until - utcnow()).total_seconds())))}


def _random_actions(settings: Settings) -> list[str]:
    pool = list(settings.checkin.action_list)
    count = secrets.choice(range(settings.checkin.min_actions, min(settings.checkin.max_actions, len(pool)) + 1))
    chosen = []
    for _ in range(count):
        chosen.append(pool.pop(secrets.randbelow(len(pool))))
    return chosen


def is_enrolled(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> bool:
    return (
        ctx.session.scalar(
            select(func.count())
            .select_from(FaceTemplate)
            .join(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
            .where(FaceTemplate.beneficiary_id == beneficiary_id, EnrolmentPhoto.state == PhotoState.ENCODED)
        )
        > 0
    )


def _failure_window_start(settings: Settings) -> datetime:
    return utcnow() - timedelta(minutes=settings.checkin.failure_window_minutes)


def _recent_failures(beneficiary_id: Any, since: Any) -> tuple[ScalarSelect, ScalarSelect]:
    """How many rejected check-ins the person had since `since`, and when the latest was decided.

    Scalar subqueries, so that with a column for beneficiary_id (and a bound parameter for since)
    submit reads them in the same statement as the challenge."""
    recent = (
        Checkin.beneficiary_id == beneficiary_id,
        Checkin.state == CheckinState.REJECTED,
        Checkin.decided_at >= since,
    )
    return (
        select(func.count()).select_from(Checkin).where(*recent).scalar_subquery(),
        select(func.max(Checkin.decided_at)).where(*recent).scalar_subquery(),
    )


def _lockout_end(settings: Settings, failures: int, latest: datetime | None) -> datetime | None:
    if failures < settings.checkin.max_failures:
        return None
    until = latest + timedelta(minutes=settings.checkin.lockout_minutes)
    return until if until > utcnow() else None


def lockout_until(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> datetime | None:
    """When a lockout after too many recent failures ends, or None if there is none."""
    since = _failure_window_start(ctx.settings)
    failures, latest = ctx.session.execute(select(*_recent_failures(beneficiary_id, since))).one()
    return _lockout_end(ctx.settings, failures, latest)


def _check_not_locked(ctx: Ctx, beneficiary_id: uuid.UUID) -> None:
    until = lockout_until(ctx, beneficiary_id=beneficiary_id)
    if until is not None:
        raise Locked(until)


def _visit_for(ctx: Ctx, actor: Actor, beneficiary: Beneficiary, visit_id: uuid.UUID) -> Visit:
    """The caller's own visit to this person (or their household) that an assisted check-in belongs to."""
    if actor.kind != "staff":
        raise DomainError.field("visit_id", "staff_only", "only a field worker's check-in belongs to a visit")
    visit = ctx.session.get(Visit, visit_id)
    own = visit is not None and str(visit.field_worker_id) == actor.id and not visit.quarantined
    concerns = own and (
        visit.beneficiary_id == beneficiary.id
        or (visit.beneficiary_id is None and visit.household_code == beneficiary.household_code)
    )
    if not concerns:
        raise NotFound("no such visit of yours to this person", {"visit_id": ["visit_not_found"]})
    return visit


def issue_challenge(
    ctx: Ctx,
    *,
    actor: Actor,
    beneficiary: Beneficiary,
    assisted_by_relative: bool = False,
    visit_id: uuid.UUID | None = None,
) -> CheckinChallenge:
    """A single-use challenge for this beneficiary, answerable only by whoever asked for it.

    A field worker running it during a home visit names the visit, and the verdict is linked to it.
    """
    if visit_id is not None:
        _visit_for(ctx, actor, beneficiary, visit_id)
    # A terminated person who appealed may check in: that is how they prove to be alive.
    if (
        beneficiary.status == BeneficiaryStatus.TERMINATED
        and terminations.under_appeal(ctx, beneficiary=beneficiary) is None
    ):
        raise Conflict(
            "this beneficiary's assistance has ended; record an appeal first if the person says it is wrong",
            {"beneficiary_id": ["terminated"]},
        )
    if actor.kind == "device":
        consent.require_consent(ctx.session, device_id=uuid.UUID(actor.id))
    if not is_enrolled(ctx, beneficiary_id=beneficiary.id):
        raise Conflict("enrol the beneficiary's face before a check-in", {"beneficiary_id": ["not_enrolled"]})
    _check_not_locked(ctx, beneficiary.id)
    now = utcnow()
    if actor.kind == "device":
        mode = CheckinMode.ASSISTED_RELATIVE if assisted_by_relative else CheckinMode.SELF
    else:
        mode = CheckinMode.ASSISTED_STAFF
    challenge = CheckinChallenge(
        beneficiary_id=beneficiary.id,
        device_id=uuid.UUID(actor.id) if actor.kind == "device" else None,
        staff_id=uuid.UUID(actor.id) if actor.kind == "staff" else None,
        mode=mode,
        visit_id=visit_id,
        nonce=secrets.token_hex(16),
        actions=_random_actions(ctx.settings),
        issued_at=now,
        expires_at=now + timedelta(seconds=ctx.settings.checkin.challenge_seconds),
    )
    ctx.session.add(challenge)
    ctx.session.flush()
    record(
        ctx.session,
        actor=actor,
        action="checkin.challenge_issued",
        object_type="checkin_challenge",
        object_id=challenge.id,
        region_code=beneficiary.village_code,
        details={
            "beneficiary_id": str(beneficiary.id),
            "mode": mode.value,
            "visit_id": str(visit_id) if visit_id else None,
        },
    )
    return challenge


def prompts(actions: list[str]) -> list[dict[str, str]]:
    """The actions with the words the app shows and speaks."""
    return [{"action": a, "prompt_zh": PROMPTS[a][0], "prompt_en": PROMPTS[a][1]} for a in actions]


def light_of(challenge: CheckinChallenge, settings: Settings) -> dict[str, Any]:
    """The challenge's colour-light sequence: derived from its nonce, so nothing more is stored."""
    from worker.face.light import light_sequence

    return {"colours": list(light_sequence(challenge.nonce)), "step_ms": settings.checkin.light_step_ms}


@dataclass(frozen=True)
class FrameUpload:
    data: bytes
    captured_at: datetime
    action: str | None
    colour: str | None = None


def _owns(actor: Actor, challenge: CheckinChallenge) -> bool:
    if actor.kind == "device":
        return challenge.device_id is not None and str(challenge.device_id) == actor.id
    return challenge.staff_id is not None and str(challenge.staff_id) == actor.id


def _validate_frames(settings: Settings, challenge: CheckinChallenge, frames: list[FrameUpload]) -> None:
    from worker.face.image import ImageRejected, check_image
    from worker.face.light import light_sequence

    limits = settings.checkin
    if not limits.min_frames <= len(frames) <= limits.max_frames:
        raise DomainError.field("frames", "wrong_count", f"send {limits.min_frames} to {limits.max_frames} frames")
    errors: dict[str, list[str]] = {}
    colours = light_sequence(challenge.nonce)
    for position, frame in enumerate(frames):
        if frame.action is not None and frame.action not in challenge.actions:
            errors[f"frames.{position}"] = ["action_not_in_challenge"]
            continue
        if frame.colour is not None and frame.colour.lower() not in colours:
            errors[f"frames.{position}"] = ["colour_not_in_challenge"]
            continue
        try:
            # The worker decodes every frame in full; intake only refuses what could never be decoded.
            check_image(frame.data, max_bytes=limits.max_frame_bytes, max_pixels=limits.max_frame_pixels)
        except ImageRejected as exc:
            errors[f"frames.{position}"] = [exc.code]
    if errors:
        raise DomainError("one or more frames cannot be used", errors)


def _submission_facts(scope: ColumnElement[bool]) -> Select:
    """Everything submit decides on, in one statement: the challenge if its person is in scope, that
    person's village, an earlier check-in with this client id, and the recent failures.

    Built once per kind of actor (beneficiaries.BOUND_SCOPE), with bound parameters: every submission
    reuses its cache key and compiled form."""
    return (
        select(
            CheckinChallenge,
            Beneficiary.village_code,
            select(Checkin.id)
            .where(
                Checkin.beneficiary_id == CheckinChallenge.beneficiary_id,
                Checkin.client_id == bindparam("client_id"),
            )
            .scalar_subquery(),
            *_recent_failures(CheckinChallenge.beneficiary_id, bindparam("since")),
        )
        .join(Beneficiary, Beneficiary.id == CheckinChallenge.beneficiary_id)
        .where(CheckinChallenge.id == bindparam("challenge"), scope)
    )


_SUBMISSION_FACTS = {kind: _submission_facts(scope) for kind, scope in BOUND_SCOPE.items()}


def submit(
    ctx: Ctx,
    *,
    actor: Actor,
    challenge_id: uuid.UUID,
    client_id: str,
    frames: list[FrameUpload],
    gps: dict[str, Any] | None,
    device_info: dict[str, Any],
) -> tuple[Checkin, bool]:
    """Accept a check-in: frames encrypted and stored, the row added as received. Returns (check-in, created).

    A resubmission with the same client id returns the stored check-in and changes nothing.
    """
    row = ctx.session.execute(
        _SUBMISSION_FACTS[actor.kind],
        {
            "challenge": challenge_id,
            "client_id": client_id,
            "since": _failure_window_start(ctx.settings),
            **scope_parameters(actor),
        },
    ).one_or_none()
    if row is None:
        raise NotFound("challenge not found", {"challenge_id": ["challenge_not_found"]})
    challenge, village_code, existing_id, failed, last_failed = row
    if not _owns(actor, challenge):
        raise Forbidden("this challenge was issued to someone else", {"challenge_id": ["challenge_not_yours"]})
    if existing_id is not None:
        return _resubmitted(ctx.session.get(Checkin, existing_id), challenge), False
    if challenge.used_at is not None:
        raise _used()
    if challenge.expires_at < utcnow():
        raise Gone("this challenge has expired; ask for a new one", {"challenge_id": ["challenge_expired"]})
    until = _lockout_end(ctx.settings, failed, last_failed)
    if until is not None:
        raise Locked(until)
    _validate_frames(ctx.settings, challenge, frames)

    checkin_id = uuid.uuid4()
    # All the frames in one object (CheckinFrame): one write, one sync and one PUT per check-in. Stored before
    # the rows that point into it (and before the audit log's lock is taken); removed again if they are not added.
    key = f"checkins/{checkin_id}"
    try:
        biometrics.put(ctx, key=key, data=b"".join(frame.data for frame in frames))
        checkin, created = _add_checkin(
            ctx, actor, challenge, checkin_id, client_id, village_code, key, frames, gps, device_info
        )
    except BaseException:
        biometrics.discard(ctx, key=key)
        raise
    if not created:
        biometrics.discard(ctx, key=key)
    return checkin, created


# Built once, as the statements of every submission: their cache keys and compiled forms are reused. On the
# tables, not the models: an ORM-enabled UPDATE would also evaluate its WHERE against the loaded challenge, and an
# ORM-enabled INSERT goes through the bulk-save machinery, both per submission for nothing read afterwards.
_CHALLENGE = CheckinChallenge.__table__
_SPEND_CHALLENGE = (
    update(_CHALLENGE)
    .where(_CHALLENGE.c.id == bindparam("challenge"), _CHALLENGE.c.used_at.is_(None))
    .values(used_at=bindparam("now"))
)
_INSERT_FRAMES = insert(CheckinFrame.__table__)
_INSERT_CHECKIN: dict[str, Insert] = {}


def _add_checkin(
    ctx: Ctx,
    actor: Actor,
    challenge: CheckinChallenge,
    checkin_id: uuid.UUID,
    client_id: str,
    village_code: str,
    key: str,
    frames: list[FrameUpload],
    gps: dict[str, Any] | None,
    device_info: dict[str, Any],
) -> tuple[Checkin, bool]:
    """The check-in's rows and audit entry, (check-in, True); or (check-in, False) when a concurrent request
    sent the same check-in and stored it first.

    Statements built once rather than the session's unit of work, and no savepoint: a client id taken
    meanwhile inserts nothing instead of failing the transaction, so nothing needs rolling back to.
    """
    session = ctx.session
    # Spending the challenge first takes its row lock: a concurrent submission of it waits here until
    # this one has committed, then finds it spent.
    spent = session.execute(_SPEND_CHALLENGE, {"challenge": challenge.id, "now": utcnow()}).rowcount
    if not spent:
        existing = session.scalar(
            select(Checkin).where(Checkin.beneficiary_id == challenge.beneficiary_id, Checkin.client_id == client_id)
        )
        if existing is None:
            raise _used()
        return _resubmitted(existing, challenge), False
    now = utcnow()
    # Every column given (the model's defaults among them), so the object is the row as inserted.
    checkin = Checkin(
        id=checkin_id,
        beneficiary_id=challenge.beneficiary_id,
        challenge_id=challenge.id,
        client_id=client_id,
        mode=challenge.mode,
        device_id=challenge.device_id,
        staff_id=challenge.staff_id,
        visit_id=challenge.visit_id,
        region_code=village_code,
        gps=gps,
        device_info=device_info,
        state=CheckinState.RECEIVED,
        attempts=0,
        lease_expires_at=None,
        reasons=[],
        scores={},
        decided_at=None,
        decided_by=None,
        created_at=now,
        updated_at=now,
    )
    # A client id that another challenge's check-in took meanwhile inserts nothing, rather than failing
    # the transaction.
    if not insert_as_loaded(session, _insert_checkin(session), checkin):
        raise _client_id_reused()
    offsets = list(accumulate((len(frame.data) for frame in frames), initial=0))
    session.execute(
        _INSERT_FRAMES,
        [
            {
                "checkin_id": checkin_id,
                "position": position,
                "object_key": key,
                "byte_offset": offsets[position],
                "byte_length": len(frame.data),
                "sha256": hashlib.sha256(frame.data).hexdigest(),
                "captured_at": frame.captured_at,
                "action": frame.action,
                "colour": frame.colour.lower() if frame.colour else None,
            }
            for position, frame in enumerate(frames)
        ],
    )
    # Last: the audit log's head stays locked until the commit.
    record(
        session,
        actor=actor,
        action="checkin.received",
        object_type="checkin",
        object_id=checkin_id,
        region_code=village_code,
        details={"frames": len(frames), "mode": challenge.mode.value},
    )
    return checkin, True


def _insert_checkin(session: Session) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect not in _INSERT_CHECKIN:
        # RETURNING tells an insert from a conflict: psycopg reports no rowcount for it.
        _INSERT_CHECKIN[dialect] = (
            insert_ignoring_conflicts(session, Checkin)
            .on_conflict_do_nothing(index_elements=["beneficiary_id", "client_id"])
            .returning(Checkin.__table__.c.id)
        )
    return _INSERT_CHECKIN[dialect]


def _resubmitted(existing: Checkin, challenge: CheckinChallenge) -> Checkin:
    """The check-in stored earlier with this client id, if it answered this challenge."""
    if existing.challenge_id != challenge.id:
        raise _client_id_reused()
    return existing


def _used() -> Conflict:
    return Conflict("this challenge has been used; ask for a new one", {"challenge_id": ["challenge_used"]})


def _client_id_reused() -> Conflict:
    return Conflict("this client id was used for another check-in", {"client_id": ["client_id_reused"]})


# What a device may be told: an answer it can act on, never a score or the detector's reasoning.
DEVICE_MESSAGES = {
    "pending": ("正在核验，请稍候", "Checking, please wait"),
    "verified": ("认证成功，谢谢", "Done: you are verified, thank you"),
    "review": ("已转人工审核，工作人员会联系您", "Sent to a person for review; staff will contact you"),
    "too_dark": ("光线太暗，请到明亮处再试", "Too dark: move somewhere brighter and try again"),
    "face_not_found": ("没有看清人脸，请正对镜头再试", "Face not found: look straight at the camera and try again"),
    "multiple_faces": (
        "画面里有多张人脸，请只让本人入镜",
        "More than one face: only the beneficiary should be in view",
    ),
    "action_not_seen": ("没有看到要求的动作，请按提示慢慢做", "The movement was not seen: follow the prompts slowly"),
    "not_confirmed": (
        "未能确认身份，请稍后再试或联系村协理员",
        "We could not confirm it is you: try later or ask your village assistant",
    ),
}
# Reasons grouped into what the person can do about them; anything unlisted stays "not_confirmed".
DEVICE_REASON = {
    "too_dark": "too_dark",
    "face_not_found": "face_not_found",
    "multiple_faces": "multiple_faces",
    "action_not_seen": "action_not_seen",
    "actions_out_of_order": "action_not_seen",
}


def device_view(checkin: Checkin) -> dict[str, Any]:
    """What the phone polling its check-in sees."""
    if checkin.state in (CheckinState.RECEIVED, CheckinState.PROCESSING):
        status, message = "pending", "pending"
    elif checkin.state == CheckinState.REJECTED:
        status = "rejected"
        message = next((DEVICE_REASON[r] for r in checkin.reasons if r in DEVICE_REASON), "not_confirmed")
    else:
        status = message = checkin.state.value
    zh, en = DEVICE_MESSAGES[message]
    return {
        "id": checkin.id,
        "status": status,
        "message": {"code": message, "zh": zh, "en": en},
        "received_at": checkin.created_at,
        "decided_at": checkin.decided_at,
    }


def get_checkin(ctx: Ctx, *, actor: Actor, checkin_id: uuid.UUID) -> Checkin:
    """A check-in of a beneficiary the actor may see."""
    checkin = ctx.session.scalar(
        select(Checkin)
        .join(Beneficiary, Beneficiary.id == Checkin.beneficiary_id)
        .where(Checkin.id == checkin_id, Beneficiary.id.in_(scoped_query(actor).with_only_columns(Beneficiary.id)))
    )
    if checkin is None:
        raise NotFound("check-in not found", {"checkin_id": ["not_found"]})
    return checkin


# Newest first, which ix_checkin_list holds (read backwards) with the scope column.
LIST_ORDER = (Checkin.created_at.desc(), Checkin.id.desc())
# Oldest first, for a queue worked through in turn: the same index read forwards.
QUEUE_ORDER = (Checkin.created_at, Checkin.id)


def list_checkins(
    ctx: Ctx,
    *,
    actor: Actor,
    filters: dict[str, Any],
    page: PageRequest,
    oldest_first: bool = False,
) -> tuple[list[Checkin], int]:
    """Check-ins in the actor's region, newest first (or, for a queue worked through in turn, oldest first),
    filtered by region, state, person and period."""
    query = select(Checkin).where(region_scope(Checkin.region_code, actor.region_code))
    if filters.get("region_code"):
        query = query.where(region_scope(Checkin.region_code, filters["region_code"]))
    if filters.get("state"):
        query = query.where(Checkin.state == filters["state"])
    if filters.get("beneficiary_id"):
        query = query.where(Checkin.beneficiary_id == filters["beneficiary_id"])
    if filters.get("received_from"):
        query = query.where(Checkin.created_at >= filters["received_from"])
    if filters.get("received_to"):
        query = query.where(Checkin.created_at < filters["received_to"])
    return fetch_page(
        ctx.session,
        query,
        order_by=QUEUE_ORDER if oldest_first else LIST_ORDER,
        page=page,
    )


def _frames_of(ctx: Ctx, *, checkin: Checkin) -> list[CheckinFrame]:
    """A check-in's frames in capture order (metadata only)."""
    return list(
        ctx.session.scalars(
            select(CheckinFrame).where(CheckinFrame.checkin_id == checkin.id).order_by(CheckinFrame.position)
        )
    )


# Frames a person deciding on a check-in is shown: about as many as fit a row of the console.
REVIEW_FRAMES = 6


def frames_for_review(
    ctx: Ctx, *, checkin: Checkin, limit: int = REVIEW_FRAMES, every: bool = False
) -> tuple[list[CheckinFrame], int]:
    """The frames a person deciding on the check-in sees, in capture order, and how many the check-in has.

    Unless `every` frame is asked for: those the face match found closest to the enrolled photos, the frame
    where each prompted action was seen, then frames spread over the rest of the session. A phone's session
    holds about 21 frames and its first eight are alike (the person holding still), so the first few alone
    show neither an action nor the faces the match relied on.
    """
    frames = _frames_of(ctx, checkin=checkin)
    if every:
        return frames, len(frames)
    scores = checkin.scores or {}
    closest = set(scores.get("best_frame_ids", []))
    acting = {entry.get("frame") for entry in (scores.get("actions") or {}).values()}
    chosen = [f for f in frames if f.id in closest or f.position in acting][:limit]
    rest = [f for f in frames if f not in chosen]
    spread = min(limit - len(chosen), len(rest))
    if spread > 0:
        step = len(rest) / spread
        chosen += [rest[int(i * step)] for i in range(spread)]
    return sorted(chosen, key=lambda f: f.position), len(frames)


def read_frame(ctx: Ctx, *, actor: Actor, checkin: Checkin, position: int, reason: str) -> bytes:
    """One frame's bytes for a person to look at, the view audited like an enrolment photo's (committed first)."""
    frame = ctx.session.scalar(
        select(CheckinFrame).where(CheckinFrame.checkin_id == checkin.id, CheckinFrame.position == position)
    )
    if frame is None:
        raise NotFound("frame not found", {"position": ["not_found"]})
    stored = biometrics.read_for_person(
        ctx,
        actor=actor,
        key=frame.object_key,
        object_type="checkin_frame",
        object_id=f"{checkin.id}:{position}",
        region_code=checkin.region_code,
        reason=reason,
    )
    return frame.cut_from(stored)
