"""Decide whether a check-in's frames show a live person performing the challenged actions.

The phone prompts a short list of actions (blink, turn the head, open the mouth, nod) and uploads
a few frames, each tagged with the prompt that was on screen, then runs the colour-light phase
(frames tagged with the screen colour). Everything here is pure: frames in, a verdict with
machine-readable reasons out. Identity across frames is the caller's job.

Every frame goes through the same path (MediaPipe face mesh, worker/face/detect.py), so identical
pixels give identical measures. Every measurement is relative to the session's own baseline (the
person's open eyes, resting mouth and neutral head pose, from the untagged frames), so an elder
with droopy eyelids, a smile or a habitual head tilt is judged against themselves. An action counts
only as motion: its measure goes beyond the limit and stays near it in at least
`min_action_frames` consecutive frames of its prompt and comes back (eyes close and reopen, a turn
goes and returns), which a detector's jitter on a photo, a natural blink or a small fidget does not
produce.

Frames are judged as the camera delivers them, never mirrored: turning to one's own left sends
the nose toward the image's right. The phone sends the raw camera frames, not its mirrored preview.

Reasons that reject (stable strings, reported in this order):
- static_frames: frames of the upload are identical or nearly so (one picture sent several times),
  found before any face work.
- too_dark: the faces (or, with no face found, the frames) are too dark to judge.
- face_not_found: too few frames show exactly one face.
- multiple_faces: some frame shows more than one face.
- action_not_seen: a challenged action was not performed in the frames prompted with it
  (which one is in `actions[name]["seen"]`).
- actions_out_of_order: the actions were seen, but not in the challenged order (by captured_at).
- no_3d_motion: a head turn or nod was seen, but the landmarks moved as one flat plane does (a photo
  tilted in front of the camera) rather than with a real head's depth.
- light_response_mismatch: the face did not reflect the challenge's colour sequence as a face does.
Reasons that send to review (the evidence is only uncertain):
- light_unmeasurable: the ambient light was too strong to see the screen's reflection (or it clipped
  the face, or everything behind it, white).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from worker.face import light as colour_light
from worker.face.detect import FaceBox, find_faces
from worker.face.limits import LivenessLimits
from worker.face.pose import HeadPose, head_pose

BLINK = "blink"
TURN_LEFT = "turn_left"
TURN_RIGHT = "turn_right"
OPEN_MOUTH = "open_mouth"
NOD = "nod"
ACTIONS = (BLINK, TURN_LEFT, TURN_RIGHT, OPEN_MOUTH, NOD)
POSE_ACTIONS = (TURN_LEFT, TURN_RIGHT, NOD)

STATIC_FRAMES = "static_frames"
TOO_DARK = "too_dark"
FACE_NOT_FOUND = "face_not_found"
MULTIPLE_FACES = "multiple_faces"
ACTION_NOT_SEEN = "action_not_seen"
ACTIONS_OUT_OF_ORDER = "actions_out_of_order"
NO_3D_MOTION = "no_3d_motion"
LIGHT_RESPONSE_MISMATCH = "light_response_mismatch"
LIGHT_UNMEASURABLE = "light_unmeasurable"
REASONS = (
    STATIC_FRAMES,
    TOO_DARK,
    FACE_NOT_FOUND,
    MULTIPLE_FACES,
    ACTION_NOT_SEEN,
    ACTIONS_OUT_OF_ORDER,
    NO_3D_MOTION,
    LIGHT_RESPONSE_MISMATCH,
)
REVIEW_REASONS = (LIGHT_UNMEASURABLE,)

# Landmark groups in the 68-point layout (read off the mesh).
_RIGHT_EYE = (36, 37, 38, 39, 40, 41)  # the eye on the image's left
_LEFT_EYE = (42, 43, 44, 45, 46, 47)
_INNER_LIPS = (60, 61, 62, 63, 64, 65, 66, 67)
# Points that lie close to one plane on a real face (brows, eyes, upper lip and mouth corners), and
# the nose tip, which stands well out of it.
_PLANE_IDS = np.array([*range(17, 27), *range(36, 48), 48, 49, 50, 51, 52, 53, 54])
_NOSE_TIP = 30
_DEPTH_MAX_DEG = 20.0

# The open-eye baseline is a high percentile of EAR outside blink prompts: half-blinks and
# squints in between pull a median down, one glint of a wide-open frame should not set it.
_EYE_BASELINE_PERCENTILE = 80.0
# Frames are compared for static_frames at this size, in grey, each scaled to the same mean and
# contrast (so a camera's exposure drift does not hide a repeated picture).
_STATIC_SIZE = (80, 60)
_STATIC_PERCENTILE = 99.0


@dataclass(frozen=True)
class FrameInput:
    """One decoded frame: RGB pixels, the action prompted (None = neutral), capture time in s, screen colour."""

    rgb: np.ndarray
    action: str | None
    captured_at: float
    colour: str | None = None


@dataclass(frozen=True)
class LightChallenge:
    """The colour sequence the challenge asked the phone to show, and each colour's duration."""

    colours: tuple[str, ...]
    step_ms: int


@dataclass(frozen=True)
class FrameAnalysis:
    """What one frame shows.

    faces counts the faces found (the mesh reports up to two). box, mesh, landmarks (the mesh in the
    68-point layout), pose, ear and mar describe the largest face and are None without one.
    brightness is the mean grey level of the face box, or of the whole frame without a face.
    """

    index: int
    faces: int
    box: FaceBox | None
    mesh: np.ndarray | None
    landmarks: np.ndarray | None
    pose: HeadPose | None
    ear: float | None
    mar: float | None
    brightness: float


@dataclass(frozen=True)
class LivenessResult:
    """The verdict: passed exactly when reasons and review are empty.

    reasons reject; review lists the uncertain evidence that sends the session to a person.
    actions maps each challenged action to {"seen", "frame", "measure", "frames"}: frame is the
    index of the strongest frame of the motion (None when unseen); measure is the quantity compared
    with the limit at the strongest frame prompted with the action (blink: EAR as a share of the
    open-eye baseline, lower is stronger; turns: Δyaw in the prompted direction; nod: |Δpitch|;
    open_mouth: the MAR rise over the resting mouth); frames is the longest run beyond the limit.
    Pose actions that were seen add "parallax" and "depth". light holds the colour check's figures.
    """

    passed: bool
    reasons: tuple[str, ...]
    actions: dict[str, dict]
    frames: tuple[FrameAnalysis, ...]
    review: tuple[str, ...] = ()
    light: dict | None = None


# --------------------------------------------------------------------------------------------
# Per-frame measures


def eye_aspect_ratio(landmarks: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes (lid gaps over eye width); about 0.3 open, under 0.15 shut."""
    return (_eye_ratio(landmarks[list(_RIGHT_EYE)]) + _eye_ratio(landmarks[list(_LEFT_EYE)])) / 2.0


def mouth_aspect_ratio(landmarks: np.ndarray) -> float:
    """Inner-lip opening over inner mouth width: about 0-0.1 closed, over 0.4 wide open."""
    p = landmarks[list(_INNER_LIPS)]
    vertical = (_dist(p[1], p[7]) + _dist(p[2], p[6]) + _dist(p[3], p[5])) / 3.0
    return vertical / max(_dist(p[0], p[4]), 1e-6)


def inter_ocular(landmarks: np.ndarray) -> float:
    """Distance between the two eye centres in pixels."""
    return _dist(landmarks[list(_RIGHT_EYE)].mean(axis=0), landmarks[list(_LEFT_EYE)].mean(axis=0))


def planar_parallax(reference: np.ndarray, moved: np.ndarray, *, axis: str, sign: float) -> float | None:
    """How far the nose tip moved out of step with the face's plane between two frames.

    Fits the homography that carries the brow, eye and mouth landmarks of reference onto those of
    moved (together they lie close to one plane), and returns how far the nose tip lands from
    where that homography puts it, along the face's horizontal axis (axis "x", for turns) or its
    vertical axis (axis "y", for nods), times sign (the direction of the rotation: +1 when the nose
    should lead toward the image's right or bottom), in inter-ocular distances of reference.

    A flat photo, however it is turned or tilted, moves all its points by one homography, so it
    scores only the landmark predictor's noise (about ±0.05); a real head turned by θ sends its nose
    tip, which stands about half an inter-ocular distance in front of that plane, ahead of it by
    roughly 0.5·sin θ. None when no homography fits.
    """
    import cv2

    src = np.ascontiguousarray(reference[_PLANE_IDS], dtype=np.float64)
    dst = np.ascontiguousarray(moved[_PLANE_IDS], dtype=np.float64)
    homography, _ = cv2.findHomography(src, dst, 0)
    if homography is None or not np.all(np.isfinite(homography)):
        return None
    predicted = cv2.perspectiveTransform(reference[[_NOSE_TIP]].reshape(1, 1, 2).astype(np.float64), homography)
    offset = moved[_NOSE_TIP] - predicted.reshape(2)
    across = moved[list(_LEFT_EYE)].mean(axis=0) - moved[list(_RIGHT_EYE)].mean(axis=0)
    across /= max(float(np.linalg.norm(across)), 1e-6)
    down = np.array([-across[1], across[0]])
    direction = across if axis == "x" else down
    return sign * float(offset @ direction) / max(inter_ocular(reference), 1e-6)


def nose_depth(parallax: float, degrees: float) -> float:
    """The nose tip's height over the face plane (in inter-ocular distances) that explains parallax at this rotation.

    Rotations past _DEPTH_MAX_DEG count as that much: the landmark predictor flattens strongly
    turned faces, so their parallax stops growing with the angle.
    """
    angle = math.radians(min(abs(degrees), _DEPTH_MAX_DEG))
    return parallax / max(math.sin(angle), 1e-6)


def _eye_ratio(eye: np.ndarray) -> float:
    return (_dist(eye[1], eye[5]) + _dist(eye[2], eye[4])) / (2.0 * max(_dist(eye[0], eye[3]), 1e-6))


def _dist(a: np.ndarray, b: np.ndarray) -> float:
    return float(math.hypot(float(a[0] - b[0]), float(a[1] - b[1])))


# --------------------------------------------------------------------------------------------
# Repeated pictures


def _static_signature(rgb: np.ndarray) -> np.ndarray:
    import cv2

    grey = cv2.cvtColor(cv2.resize(rgb, _STATIC_SIZE, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    grey = grey.astype(np.float32)
    return (grey - grey.mean()) * (40.0 / max(float(grey.std()), 1.0))


def same_picture(a: np.ndarray, b: np.ndarray, limits: LivenessLimits) -> bool:
    """Whether two frames show the same picture (identical, or differing only by noise and exposure)."""
    diff = np.abs(_static_signature(a) - _static_signature(b))
    return float(np.percentile(diff, _STATIC_PERCENTILE)) < limits.static_max_diff


def static_frames(frames: list[FrameInput], limits: LivenessLimits) -> bool:
    """Whether the upload repeats one picture: across a change of prompt or colour, or in most consecutive pairs.

    A live person changes the picture when the prompt changes (they act, the screen's colour
    changes what the face reflects); only a picture sent again does not. Pixels only: no face work.
    """
    ordered = sorted(frames, key=lambda f: f.captured_at)
    if len(ordered) < 2:
        return False
    signatures = [_static_signature(f.rgb) for f in ordered]
    repeats = 0
    for (fa, sa), (fb, sb) in itertools.pairwise(zip(ordered, signatures, strict=True)):
        if float(np.percentile(np.abs(sa - sb), _STATIC_PERCENTILE)) >= limits.static_max_diff:
            continue
        repeats += 1
        if (fa.action, fa.colour) != (fb.action, fb.colour):
            return True
    return repeats * 2 > len(ordered) - 1


# --------------------------------------------------------------------------------------------
# Measuring every frame the same way


def _brightness(rgb: np.ndarray, box: FaceBox | None) -> float:
    region = rgb if box is None or box.width < 2 or box.height < 2 else rgb[box.top : box.bottom, box.left : box.right]
    # Every other pixel is plenty for a mean and quarters the work on large frames.
    region = region[::2, ::2]
    return float(region.mean(axis=(0, 1)) @ np.array([0.299, 0.587, 0.114]))


def analyse_frames(frames: list[FrameInput]) -> list[FrameAnalysis]:
    """Mesh the face in every frame (each afresh, the same way) and measure its pose, eyes, mouth and brightness."""
    out = []
    for index, frame in enumerate(frames):
        faces = find_faces(frame.rgb)
        out.append(_measure(index, frame.rgb, faces))
    return out


def _measure(index: int, rgb: np.ndarray, faces: list) -> FrameAnalysis:
    import cv2

    if not faces:
        return FrameAnalysis(index, 0, None, None, None, None, None, None, _brightness(rgb, None))
    face = faces[0]
    landmarks = face.points68
    try:
        pose: HeadPose | None = head_pose(landmarks, rgb.shape[:2])
    except (ValueError, cv2.error):
        pose = None
    return FrameAnalysis(
        index=index,
        faces=len(faces),
        box=face.box,
        mesh=face.mesh,
        landmarks=landmarks,
        pose=pose,
        ear=eye_aspect_ratio(landmarks),
        mar=mouth_aspect_ratio(landmarks),
        brightness=_brightness(rgb, face.box),
    )


# --------------------------------------------------------------------------------------------
# The verdict


@dataclass(frozen=True)
class _Baseline:
    ear: float | None
    mar: float | None
    yaw: float | None
    pitch: float | None
    frame: FrameAnalysis | None  # the neutral frame closest to the pose baseline, for parallax


def _baseline(usable: list[tuple[FrameInput, FrameAnalysis]]) -> _Baseline:
    """The person's own resting face in this session, from the untagged frames where there are some."""
    neutral = [(f, a) for f, a in usable if f.action is None and f.colour is None]
    if not neutral:
        neutral = [(f, a) for f, a in usable if f.action is None]
    if not neutral:
        neutral = usable
    open_eyes = [a.ear for f, a in usable if f.action not in (BLINK, *POSE_ACTIONS) and a.ear is not None]
    rest_mouth = [a.mar for _, a in neutral if a.mar is not None]
    ear = float(np.percentile(open_eyes, _EYE_BASELINE_PERCENTILE)) if open_eyes else None
    mar = float(np.median(rest_mouth)) if rest_mouth else None
    posed = [a for _, a in neutral if a.pose is not None]
    if not posed:
        return _Baseline(ear, mar, None, None, None)
    yaw = float(np.median([a.pose.yaw for a in posed]))
    pitch = float(np.median([a.pose.pitch for a in posed]))
    closest = min(posed, key=lambda a: abs(a.pose.yaw - yaw) + abs(a.pose.pitch - pitch))
    return _Baseline(ear, mar, yaw, pitch, closest)


def _strength(
    action: str, analysis: FrameAnalysis, base: _Baseline, limits: LivenessLimits
) -> tuple[float, float] | None:
    """(strength, raw measure) of one frame for an action: strength 1 is the limit, 0 the baseline; None unmeasurable.

    Nods count either way, so their strength is signed: a run must keep one sign.
    """
    if action == BLINK:
        if analysis.ear is None or not base.ear:
            return None
        ratio = analysis.ear / base.ear
        return (1.0 - ratio) / (1.0 - limits.blink_ear_ratio), ratio
    if action == OPEN_MOUTH:
        if analysis.mar is None or base.mar is None:
            return None
        rise = analysis.mar - base.mar
        return rise / limits.mouth_min_rise, rise
    if analysis.pose is None or base.yaw is None or base.pitch is None:
        return None
    if action == NOD:
        delta = analysis.pose.pitch - base.pitch
        return delta / limits.nod_min_deg, abs(delta)
    # Turning to one's own left sends the nose toward the image's right: yaw grows.
    direction = 1.0 if action == TURN_LEFT else -1.0
    delta = direction * (analysis.pose.yaw - base.yaw)
    return delta / limits.turn_min_deg, delta


def _motion(
    action: str,
    ordered: list[tuple[FrameInput, FrameAnalysis | None]],
    base: _Baseline,
    limits: LivenessLimits,
) -> tuple[list[int], float | None]:
    """The frames (positions in `ordered`) of a performed action, or [] when there is none; and the best raw measure.

    Performed: a run of at least min_action_frames consecutive prompted frames held beyond the
    limit (see _held_runs), with a frame at rest (within return_share of the limit) before it and
    one after it, in the prompt or right next to it.
    """
    strengths: list[float | None] = []
    best: float | None = None
    for frame, analysis in ordered:
        measured = _strength(action, analysis, base, limits) if analysis is not None else None
        strengths.append(None if measured is None else measured[0])
        if measured is not None and frame.action == action:
            raw = measured[1]
            if best is None or (raw < best if action == BLINK else raw > best):
                best = raw
    prompted = [i for i, (frame, _) in enumerate(ordered) if frame.action == action]
    if not prompted:
        return [], best

    def at_rest(i: int) -> bool:
        value = strengths[i] if 0 <= i < len(strengths) else None
        return value is not None and abs(value) <= limits.return_share

    runs = _held_runs(action, prompted, strengths, limits)
    window = set(range(prompted[0] - 1, prompted[-1] + 2))
    for candidate in sorted(runs, key=len, reverse=True):
        if len(candidate) < limits.min_action_frames:
            break
        before = any(at_rest(i) for i in range(prompted[0] - 1, candidate[0]) if i in window)
        after = any(at_rest(i) for i in range(candidate[-1] + 1, prompted[-1] + 2) if i in window)
        if before and after:
            return candidate, best
    return [], best


def _held_runs(
    action: str, prompted: list[int], strengths: list[float | None], limits: LivenessLimits
) -> list[list[int]]:
    """Runs of consecutive prompted frames held beyond hold_share of the limit that reach the limit in one of them.

    The hysteresis works both ways: the frame on the way up to a peak belongs to the action as much
    as the frame on the way down (a nod read 7.7° then 8.9° against an 8° limit was one frame long).
    A nod's run keeps one sign. One frame where no face was measured (a noisy frame the mesh missed)
    does not break a run, nor counts in it: the frames on both sides are still the evidence.
    """
    runs: list[list[int]] = []
    run: list[int] = []
    stepped_over = False
    last: int | None = None
    for i in prompted:
        value = strengths[i]
        next_to_run = bool(run) and i == last + 1
        last = i
        if value is None and next_to_run and not stepped_over:
            stepped_over = True
            continue
        holds = value is not None and (abs(value) if action == NOD else value) >= limits.hold_share
        same_sign = not run or action != NOD or math.copysign(1, value) == math.copysign(1, strengths[run[-1]])
        if holds and next_to_run and same_sign:
            run.append(i)
            continue
        if run:
            runs.append(run)
        run, stepped_over = ([i] if holds else []), False
    if run:
        runs.append(run)
    return [r for r in runs if max(abs(strengths[i]) for i in r) >= 1.0]


def check_liveness(
    frames: list[FrameInput], actions: list[str], limits: LivenessLimits, *, light: LightChallenge | None = None
) -> LivenessResult:
    """Decide whether the frames show one live face doing the challenged actions in order (and reflecting the light)."""
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(f"unknown liveness actions {unknown}; have {', '.join(ACTIONS)}")
    if static_frames(frames, limits):
        # One picture sent several times: nothing a face check could add.
        return LivenessResult(passed=False, reasons=(STATIC_FRAMES,), actions={}, frames=())
    analyses = analyse_frames(frames)
    return _decide(frames, analyses, actions, limits, light)


def _decide(
    frames: list[FrameInput],
    analyses: list[FrameAnalysis],
    actions: list[str],
    limits: LivenessLimits,
    light: LightChallenge | None,
) -> LivenessResult:
    reasons: set[str] = set()
    review: set[str] = set()
    count = len(frames)
    single = sum(1 for a in analyses if a.faces == 1)
    if count == 0 or single < limits.min_face_frames * count:
        reasons.add(FACE_NOT_FOUND)
    if any(a.faces > 1 for a in analyses):
        reasons.add(MULTIPLE_FACES)
    lit = [a.brightness for f, a in zip(frames, analyses, strict=True) if a.box is not None and f.colour is None]
    lit = lit or [a.brightness for a in analyses]
    if lit and float(np.median(lit)) < limits.min_brightness:
        reasons.add(TOO_DARK)

    usable = [(f, a) for f, a in zip(frames, analyses, strict=True) if a.landmarks is not None]
    base = _baseline(usable)
    order = sorted(range(count), key=lambda i: frames[i].captured_at)
    ordered = [(frames[i], analyses[i] if analyses[i].landmarks is not None else None) for i in order]
    report: dict[str, dict] = {}
    evidence: list[tuple[float, int]] = []
    for action in actions:
        run, best = _motion(action, ordered, base, limits)
        entry: dict = {"seen": bool(run), "frame": None, "measure": _round(best), "frames": len(run)}
        if run:
            strongest = max(run, key=lambda i: abs(_strength(action, ordered[i][1], base, limits)[0]))
            _, analysis = ordered[strongest]
            entry["frame"] = analysis.index
            evidence.append((ordered[run[0]][0].captured_at, analysis.index))
            if action in POSE_ACTIONS:
                parallax, depth = _depth(action, analysis, base)
                entry["parallax"], entry["depth"] = _round(parallax), _round(depth)
                if limits.min_nose_depth > 0 and (depth is None or depth < limits.min_nose_depth):
                    reasons.add(NO_3D_MOTION)
        else:
            reasons.add(ACTION_NOT_SEEN)
        report[action] = entry
    if len(evidence) == len(actions) and any(b <= a for a, b in itertools.pairwise(evidence)):
        reasons.add(ACTIONS_OUT_OF_ORDER)

    light_report = None
    if light is not None:
        verdict = colour_light.check_light(
            [
                colour_light.LightFrame(f.rgb, f.colour, f.captured_at, a.mesh)
                for f, a in zip(frames, analyses, strict=True)
                if f.colour is not None
            ],
            light.colours,
            light.step_ms,
            max_lag_ms=limits.light_max_lag_ms,
            min_correlation=limits.light_min_correlation,
            min_gain=limits.light_min_gain,
            ambient_brightness=limits.light_ambient_brightness,
            max_background_share=limits.light_max_background_share,
            min_shape_ratio=limits.light_min_shape_ratio,
            min_shape_ratio_alone=limits.light_min_shape_ratio_alone,
            step_margin=limits.light_step_margin,
        )
        light_report = {"outcome": verdict.outcome, **verdict.details}
        if verdict.outcome == colour_light.MISMATCHED:
            reasons.add(LIGHT_RESPONSE_MISMATCH)
        elif verdict.outcome == colour_light.UNMEASURABLE:
            review.add(LIGHT_UNMEASURABLE)

    ordered_reasons = tuple(r for r in REASONS if r in reasons)
    ordered_review = tuple(r for r in REVIEW_REASONS if r in review)
    return LivenessResult(
        passed=not ordered_reasons and not ordered_review,
        reasons=ordered_reasons,
        actions=report,
        frames=tuple(analyses),
        review=ordered_review,
        light=light_report,
    )


def _depth(action: str, analysis: FrameAnalysis, base: _Baseline) -> tuple[float | None, float | None]:
    """Parallax and nose depth of a seen turn or nod against the neutral frame; Nones when unmeasurable."""
    if base.frame is None or base.yaw is None or base.pitch is None or analysis.pose is None:
        return None, None
    if action == NOD:
        # A nod down (pitch falling) sends the nose tip down ahead of the face plane.
        delta = analysis.pose.pitch - base.pitch
        axis, sign = "y", -1.0 if delta > 0 else 1.0
    else:
        # A turn with yaw rising sends the nose tip toward the image's right ahead of the face plane.
        delta = analysis.pose.yaw - base.yaw
        axis, sign = "x", 1.0 if delta > 0 else -1.0
    parallax = planar_parallax(base.frame.landmarks, analysis.landmarks, axis=axis, sign=sign)
    if parallax is None:
        return None, None
    return parallax, nose_depth(parallax, delta)


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)
