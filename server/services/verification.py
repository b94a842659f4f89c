"""The worker's side of a check-in: liveness, one identity throughout, no replay, a match to enrolment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

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
    utcnow,
)
from server.services import biometrics, cycles, decisions, leases
from server.services import templates as face_templates
from server.services.audit import Actor, record
from server.services.cases import open_case
from server.services.errors import Conflict, DomainError
from storage import StorageError

# The face library (numpy, Pillow, the models) loads in the functions that verify: the API imports this
# module for a supervisor's review decision and must start without it.
if TYPE_CHECKING:
    import numpy as np

    from worker.face.liveness import FrameAnalysis, FrameInput, LightChallenge, LivenessResult

MAX_VERIFY_ATTEMPTS = 5
# The reasons the verifier gives beside the liveness check's own (worker.face.liveness.REASONS and
# REVIEW_REASONS): the console must have words for every one of them.
IDENTITY_CHANGED = "identity_changed"
IDENTITY_UNCERTAIN = "identity_uncertain"
NOT_ENROLLED = "not_enrolled"
FACE_UNCERTAIN = "face_uncertain"
FACE_MISMATCH = "face_mismatch"
TOO_MANY_ATTEMPTS = "too_many_attempts"
REPLAYED_FRAMES = "replayed_frames"
OWN_REASONS = (
    IDENTITY_CHANGED,
    IDENTITY_UNCERTAIN,
    NOT_ENROLLED,
    FACE_UNCERTAIN,
    FACE_MISMATCH,
    TOO_MANY_ATTEMPTS,
    REPLAYED_FRAMES,
)
# Frames named for a reviewer's side-by-side view.
BEST_FRAMES = 3


@dataclass(frozen=True)
class Assessment:
    state: CheckinState
    reasons: list[str]
    scores: dict[str, Any] = field(default_factory=dict)
    # Session frame indices, most like the enrolment first (the console's side-by-side view).
    best_frames: tuple[int, ...] = ()
    # The best frame's template: a verified check-in may keep it as a template that ages with the person.
    best_template: np.ndarray | None = field(default=None, compare=False, repr=False)


def _frontal(analysis: FrameAnalysis) -> float:
    return abs(analysis.pose.yaw) + abs(analysis.pose.pitch)


def _phase(frame: FrameInput) -> str:
    """The part of the session a frame was captured in: "hold", the action prompted, or "colour"."""
    return "colour" if frame.colour is not None else frame.action or "hold"


def _identity_frames(
    liveness: LivenessResult, frames: list[FrameInput], limit: int
) -> tuple[FrameAnalysis, list[FrameAnalysis]]:
    """The frame to match against enrolment, and the frames that must show the same person.

    The match uses the most frontal face of the hold (the person looks at the screen and holds
    still), or, without one there, of the session outside the colour phase (a tinted face is a
    poorer likeness): the best likeness to an enrolment photo.
    Every frame in which a challenged action was seen must show the matched person (only a live
    person produces those frames, so a photo of the enrolled person cannot carry a check-in whose
    actions someone else performed), and so must one frame of every other part of the session
    (each prompt without a seen action, the colour phase: a person swapped in for a part of it,
    the colour phase above all, is caught), its most frontal, up to `limit` frames in all. Each
    face encoded costs about as much as meshing two frames: these are the frames identity needs.
    """
    with_face = [a for a in liveness.frames if a.box is not None and a.pose is not None]
    parts: dict[str, list[FrameAnalysis]] = {}
    for analysis in with_face:
        parts.setdefault(_phase(frames[analysis.index]), []).append(analysis)
    unlit = [a for a in with_face if frames[a.index].colour is None]
    matched = min(parts.get("hold") or unlit or with_face, key=_frontal)
    performed = {entry["frame"] for entry in liveness.actions.values()}
    acting = [a for a in with_face if a.index in performed and a is not matched]
    covered = {_phase(frames[a.index]) for a in (matched, *acting)}
    others = [min(members, key=_frontal) for part, members in parts.items() if part not in covered]
    return matched, acting + others[: max(0, limit - 1 - len(acting))]


def assess(
    frames: list[FrameInput],
    actions: list[str],
    templates: list[np.ndarray],
    settings: Settings,
    *,
    light: LightChallenge | None,
    template_ids: list[str] | None = None,
    cohort: Sequence[np.ndarray] = (),
) -> Assessment:
    """Decide a session from its decoded frames and the enrolled templates: pure, no I/O.

    Liveness reasons reject; uncertain evidence (light_unmeasurable, identity_uncertain) caps the
    verdict at review, with its reason, whatever the face match says. Every encoded frame is matched
    against every template and the distances fused (worker.face.matching); `cohort` holds other
    enrolled people's templates, one array per person, against which the fused distance is T-normed
    when there are enough of them.
    """
    import numpy as np

    from worker.face.encode import encode_faces, face_distance
    from worker.face.liveness import check_liveness
    from worker.face.matching import DEFAULT_FUSION, cohort_scores, decide, match

    liveness = check_liveness(frames, actions, settings.liveness, light=light)
    scores: dict[str, Any] = {"actions": liveness.actions}
    if liveness.light is not None:
        scores["light"] = liveness.light
    if liveness.reasons:
        return Assessment(CheckinState.REJECTED, list(liveness.reasons), scores)
    uncertain = list(liveness.review)
    matched, performers = _identity_frames(liveness, frames, settings.checkin.identity_frames)
    analysed = (matched, *performers)
    vectors = encode_faces([(frames[a.index].rgb, a.box) for a in analysed])
    probe, others = vectors[0], vectors[1:]
    spread = max((face_distance(probe, other) for other in others), default=0.0)
    scores["identity_spread"] = round(spread, 4)
    if spread > settings.checkin.same_person_review:
        return Assessment(CheckinState.REJECTED, [IDENTITY_CHANGED], scores)
    if spread > settings.checkin.same_person:
        uncertain.append(IDENTITY_UNCERTAIN)
    if not templates:
        return Assessment(CheckinState.REVIEW, [*uncertain, NOT_ENROLLED], scores)
    result = match(vectors, np.stack(templates))
    limits = settings.face.limits
    against = cohort_scores(vectors, cohort) if len(cohort) >= limits.cohort_min else None
    outcome, normalised = decide(result.distance, against, limits)
    scores.update(
        distance=round(result.distance, 4),
        fusion=DEFAULT_FUSION,
        frames_matched=len(vectors),
        templates_matched=len(templates),
        cohort=0 if against is None else len(against),
    )
    if normalised is not None:
        scores["t_norm"] = round(normalised, 3)
    if template_ids is not None:
        scores["closest_template_id"] = template_ids[result.closest_template]
    best = tuple(analysed[i].index for i in result.probes_by_likeness[:BEST_FRAMES])
    state, reasons = {
        "accept": (CheckinState.VERIFIED, []),
        "review": (CheckinState.REVIEW, [FACE_UNCERTAIN]),
        "reject": (CheckinState.REJECTED, [FACE_MISMATCH]),
    }[outcome]
    if uncertain and state != CheckinState.REJECTED:
        state, reasons = CheckinState.REVIEW, [*uncertain, *reasons]
    return Assessment(state, reasons, scores, best, vectors[result.probes_by_likeness[0]])


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
    from worker.face.light import light_sequence
    from worker.face.liveness import LightChallenge

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
        assessment = Assessment(CheckinState.REVIEW, [TOO_MANY_ATTEMPTS])
    elif _replayed(ctx, checkin_id, [row.sha256 for row in rows]):
        assessment = Assessment(CheckinState.REJECTED, [REPLAYED_FRAMES])
    else:
        challenge = ctx.session.get(CheckinChallenge, checkin.challenge_id)
        own = face_templates.matching_templates(ctx.session, checkin.beneficiary_id)
        beneficiary = ctx.session.get(Beneficiary, checkin.beneficiary_id)
        cohort = face_templates.cohort_gallery(
            ctx.session,
            county=beneficiary.village_code[:6],
            exclude=beneficiary.id,
            people=ctx.settings.face.cohort_size,
            minimum=ctx.settings.face.cohort_min,
        )
        with leases.heartbeat(ctx.session, Checkin, checkin_id, attempt, lease):
            try:
                frames = _decode(ctx, rows)
            except StorageError as exc:
                raise leases.RetryOwnWork(attempt) from exc
            assessment = assess(
                frames,
                challenge.actions,
                list(own.vectors),
                ctx.settings,
                light=LightChallenge(light_sequence(challenge.nonce), ctx.settings.checkin.light_step_ms),
                template_ids=[str(i) for i in own.ids],
                cohort=cohort.by_owner(),
            )
        if assessment.best_frames:
            assessment.scores["best_frame_ids"] = [rows[i].id for i in assessment.best_frames]
    return _record_verdict(ctx, checkin, attempt, assessment)


def _decode(ctx: Ctx, rows: list[CheckinFrame]) -> list[FrameInput]:
    from worker.face.image import decode_image
    from worker.face.liveness import FrameInput

    start = rows[0].captured_at
    frames = []
    # A check-in's frames share one object (older check-ins have one per frame): each fetched once.
    objects: dict[str, bytes] = {}
    for row in rows:
        if row.object_key not in objects:
            objects[row.object_key] = biometrics.get(ctx, key=row.object_key)
        data = row.cut_from(objects[row.object_key])
        rgb = decode_image(data, max_bytes=len(data), max_pixels=ctx.settings.checkin.max_frame_pixels)
        at = (row.captured_at - start).total_seconds()
        frames.append(FrameInput(rgb=rgb, action=row.action, captured_at=at, colour=row.colour))
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
        if assessment.best_template is not None:
            face_templates.add_checkin_template(
                ctx.session, ctx.settings, checkin=checkin, vector=assessment.best_template
            )
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
        ctx,
        kind=CaseKind.FAILED_CHECKINS,
        beneficiary=beneficiary,
        dedupe_key=f"failed_checkins:{checkin.beneficiary_id}:{period.key}",
        summary=f"{failures} failed check-ins this cycle: verify with the person in an assisted check-in",
        details={"cycle": period.key, "last_checkin_id": str(checkin.id)},
    )
