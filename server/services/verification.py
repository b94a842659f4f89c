"""The worker's side of a check-in: liveness, one identity throughout, no replay, a match to enrolment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select

from server.config import Settings
from server.context import Ctx
from server.models import (
    Beneficiary,
    CaseKind,
    Checkin,
    CheckinChallenge,
    CheckinFrame,
    CheckinState,
    EnrolmentPhoto,
    FaceTemplate,
    PhotoState,
    utcnow,
)
from server.services import biometrics, cycles, decisions, leases
from server.services.audit import Actor, record
from server.services.cases import open_case
from server.services.errors import Conflict, DomainError
from storage import StorageError
from worker.face.encode import encode_faces, face_distance, template_from_bytes
from worker.face.image import decode_image
from worker.face.liveness import FrameAnalysis, FrameInput, LivenessResult, check_liveness

MAX_VERIFY_ATTEMPTS = 5


@dataclass(frozen=True)
class Assessment:
    state: CheckinState
    reasons: list[str]
    scores: dict[str, Any] = field(default_factory=dict)


def _frontal(analysis: FrameAnalysis) -> float:
    return abs(analysis.pose.yaw) + abs(analysis.pose.pitch)


def _identity_frames(liveness: LivenessResult, limit: int) -> tuple[FrameAnalysis, list[FrameAnalysis]]:
    """The frame to match against enrolment, and the frames that must show the same person.

    The match uses the most frontal face of the session, the best likeness to an enrolment photo.
    Every frame in which a challenged action was seen must show the matched person (only a live
    person produces those frames, so a photo of the enrolled person cannot carry a check-in whose
    actions someone else performed), and so must the other frames, sampled evenly up to `limit`.
    """
    with_face = [a for a in liveness.frames if a.box is not None and a.pose is not None]
    matched = min(with_face, key=_frontal)
    performed = {entry["frame"] for entry in liveness.actions.values()}
    acting = [a for a in with_face if a.index in performed and a is not matched]
    others = [a for a in with_face if a.index not in performed and a is not matched]
    room = max(0, limit - 1 - len(acting))
    if len(others) > room:
        others = [others[i] for i in np.linspace(0, len(others) - 1, room).round().astype(int)] if room else []
    return matched, acting + others


def assess(
    frames: list[FrameInput], actions: list[str], templates: list[np.ndarray], settings: Settings, *, mirrored: bool
) -> Assessment:
    """Decide a session from its decoded frames and the enrolled templates: pure, no I/O."""
    liveness = check_liveness(frames, actions, settings.liveness, mirrored=mirrored)
    scores: dict[str, Any] = {"actions": liveness.actions}
    if not liveness.passed:
        return Assessment(CheckinState.REJECTED, list(liveness.reasons), scores)
    matched, performers = _identity_frames(liveness, settings.checkin.identity_frames)
    probe, *others = encode_faces([(frames[a.index].rgb, a.box) for a in (matched, *performers)])
    spread = max((face_distance(probe, other) for other in others), default=0.0)
    scores["identity_spread"] = round(spread, 4)
    if spread > settings.checkin.same_person:
        return Assessment(CheckinState.REJECTED, ["identity_changed"], scores)
    if not templates:
        return Assessment(CheckinState.REVIEW, ["not_enrolled"], scores)
    distance = float(np.linalg.norm(np.stack(templates) - probe, axis=1).min())
    scores["distance"] = round(distance, 4)
    thresholds = settings.face
    if distance <= thresholds.accept:
        return Assessment(CheckinState.VERIFIED, [], scores)
    if distance <= thresholds.review:
        return Assessment(CheckinState.REVIEW, ["face_uncertain"], scores)
    return Assessment(CheckinState.REJECTED, ["face_mismatch"], scores)


def enrolled_templates(ctx: Ctx, *, beneficiary_id: uuid.UUID) -> list[np.ndarray]:
    return [
        template_from_bytes(blob)
        for blob in ctx.session.scalars(
            select(FaceTemplate.vector)
            .join(EnrolmentPhoto, EnrolmentPhoto.id == FaceTemplate.photo_id)
            .where(FaceTemplate.beneficiary_id == beneficiary_id, EnrolmentPhoto.state == PhotoState.ENCODED)
        )
    ]


def _replayed(ctx: Ctx, checkin_id: uuid.UUID, hashes: list[str]) -> bool:
    """Whether any frame's exact bytes were already submitted in another check-in."""
    return bool(
        ctx.session.scalar(
            select(func.count())
            .select_from(CheckinFrame)
            .where(CheckinFrame.sha256.in_(hashes), CheckinFrame.checkin_id != checkin_id)
        )
    )


def verify_checkin(ctx: Ctx, *, checkin_id: uuid.UUID, reclaim: int | None = None) -> str:
    """Verify one received check-in and record the verdict; idempotent, the claim commits at once.

    Frames that cannot be read raise `leases.RetryOwnWork`: the task retries with `reclaim` and keeps
    the check-in, instead of meeting its own lease and waiting for it to run out.
    """
    lease = ctx.settings.task_lease_seconds
    attempt = leases.claim(ctx.session, Checkin, checkin_id, lease, reclaim=reclaim)
    if attempt is None:
        return "not_claimable"
    checkin = ctx.session.get(Checkin, checkin_id)
    rows = ctx.session.scalars(
        select(CheckinFrame).where(CheckinFrame.checkin_id == checkin_id).order_by(CheckinFrame.position)
    ).all()
    if attempt > MAX_VERIFY_ATTEMPTS:
        # Workers kept dying on this session: a person decides.
        assessment = Assessment(CheckinState.REVIEW, ["too_many_attempts"])
    elif _replayed(ctx, checkin_id, [row.sha256 for row in rows]):
        assessment = Assessment(CheckinState.REJECTED, ["replayed_frames"])
    else:
        challenge = ctx.session.get(CheckinChallenge, checkin.challenge_id)
        templates = enrolled_templates(ctx, beneficiary_id=checkin.beneficiary_id)
        with leases.heartbeat(ctx.session, Checkin, checkin_id, attempt, lease):
            try:
                frames = _decode(ctx, rows)
            except StorageError as exc:
                raise leases.RetryOwnWork(attempt) from exc
            assessment = assess(
                frames,
                challenge.actions,
                templates,
                ctx.settings,
                mirrored=bool(checkin.device_info.get("mirrored", False)),
            )
    return _record_verdict(ctx, checkin, attempt, assessment)


def _decode(ctx: Ctx, rows: list[CheckinFrame]) -> list[FrameInput]:
    start = rows[0].captured_at
    frames = []
    for row in rows:
        data = biometrics.get(ctx, key=row.object_key)
        rgb = decode_image(data, max_bytes=len(data), max_pixels=ctx.settings.checkin.max_frame_pixels)
        frames.append(FrameInput(rgb=rgb, action=row.action, captured_at=(row.captured_at - start).total_seconds()))
    return frames


def _record_verdict(ctx: Ctx, checkin: Checkin, attempt: int, assessment: Assessment) -> str:
    finished = leases.finish(
        ctx.session,
        Checkin,
        checkin.id,
        attempt,
        state=assessment.state,
        reasons=assessment.reasons,
        scores=assessment.scores,
        decided_at=utcnow(),
    )
    if not finished:
        return "lease_lost"
    record(
        ctx.session,
        actor=Actor.system(),
        action=f"checkin.{assessment.state.value}",
        object_type="checkin",
        object_id=checkin.id,
        region_code=checkin.region_code,
        details={"reasons": assessment.reasons},
    )
    if assessment.state == CheckinState.REJECTED:
        _refer_repeated_failures(ctx, checkin)
    if assessment.state == CheckinState.VERIFIED:
        decisions.close_missed_checkin_cases(ctx, beneficiary_id=checkin.beneficiary_id, checkin_id=checkin.id)
    return assessment.state.value


REVIEW_VERDICTS = (CheckinState.VERIFIED, CheckinState.REJECTED)


def decide_review(ctx: Ctx, *, actor: Actor, checkin: Checkin, verdict: CheckinState, reason: str) -> Checkin:
    """A supervisor's verdict on a check-in the worker sent to review; it counts as the worker's would."""
    reason = reason.strip()
    if not reason:
        raise DomainError.field("reason", "required", "every decision needs a reason")
    if checkin.state != CheckinState.REVIEW:
        raise Conflict(
            f"a check-in in state {checkin.state.value} is not awaiting review",
            {"state": ["invalid_transition"], "allowed": []},
        )
    checkin.state = verdict
    checkin.decided_at = utcnow()
    checkin.decided_by = uuid.UUID(actor.id)
    record(
        ctx.session,
        actor=actor,
        action=f"checkin.review_{verdict.value}",
        object_type="checkin",
        object_id=checkin.id,
        region_code=checkin.region_code,
        reason=reason,
        details={"reasons": checkin.reasons},
    )
    ctx.session.flush()
    if verdict == CheckinState.VERIFIED:
        decisions.close_missed_checkin_cases(ctx, beneficiary_id=checkin.beneficiary_id, checkin_id=checkin.id)
    else:
        _refer_repeated_failures(ctx, checkin)
    return checkin


def _refer_repeated_failures(ctx: Ctx, checkin: Checkin) -> None:
    """Enough failures in one cycle send the person to assisted verification by a human."""
    zone = cycles.office_zone(ctx.settings)
    beneficiary = ctx.session.get(Beneficiary, checkin.beneficiary_id)
    period = cycles.period_for(ctx, beneficiary=beneficiary, on_date=cycles.local_today(zone), zone=zone)
    failures = ctx.session.scalar(
        select(func.count())
        .select_from(Checkin)
        .where(
            Checkin.beneficiary_id == checkin.beneficiary_id,
            Checkin.state == CheckinState.REJECTED,
            Checkin.decided_at >= period.start,
            Checkin.decided_at < period.end,
        )
    )
    # The verdict being recorded is already written in this transaction, so the count includes it.
    if failures < ctx.settings.checkin.failures_before_review:
        return
    open_case(
        ctx.session,
        kind=CaseKind.FAILED_CHECKINS,
        beneficiary=beneficiary,
        dedupe_key=f"failed_checkins:{checkin.beneficiary_id}:{period.key}",
        summary=f"{failures} failed check-ins this cycle: verify with the person in an assisted check-in",
        details={"cycle": period.key, "last_checkin_id": str(checkin.id)},
    )
