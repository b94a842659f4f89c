"""Decide whether a check-in's frames show a live person performing the challenged actions.

The phone prompts a short list of actions (blink, turn the head, open the mouth, nod) and uploads
a few frames, each tagged with the prompt that was on screen. Everything here is pure: frames in,
a verdict with machine-readable reasons out. Identity across frames is the caller's job.

Every measurement is relative to the session's own baseline (the person's open eyes, resting
mouth and neutral head pose), so an elder with droopy eyelids or a habitual head tilt is judged
against themselves, and the limits can stay gentle.

Reasons (stable strings, reported in this order):
- too_dark: the faces (or, with no face found, the frames) are too dark to judge.
- face_not_found: too few frames show exactly one face.
- multiple_faces: some frame shows more than one face.
- action_not_seen: a challenged action was not seen in the frames prompted with it
  (which one is in `actions[name]["seen"]`).
- actions_out_of_order: the actions were seen, but not in the challenged order (by captured_at).
- no_3d_motion: a head turn or nod was seen, but the landmarks moved as one flat plane does (a photo
  tilted in front of the camera) rather than with a real head's depth.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from worker.face.detect import FaceBox, detect_faces, landmarks68
from worker.face.models import face_models
from worker.face.pose import HeadPose, head_pose

BLINK = "blink"
TURN_LEFT = "turn_left"
TURN_RIGHT = "turn_right"
OPEN_MOUTH = "open_mouth"
NOD = "nod"
ACTIONS = (BLINK, TURN_LEFT, TURN_RIGHT, OPEN_MOUTH, NOD)
POSE_ACTIONS = (TURN_LEFT, TURN_RIGHT, NOD)

TOO_DARK = "too_dark"
FACE_NOT_FOUND = "face_not_found"
MULTIPLE_FACES = "multiple_faces"
ACTION_NOT_SEEN = "action_not_seen"
ACTIONS_OUT_OF_ORDER = "actions_out_of_order"
NO_3D_MOTION = "no_3d_motion"
REASONS = (TOO_DARK, FACE_NOT_FOUND, MULTIPLE_FACES, ACTION_NOT_SEEN, ACTIONS_OUT_OF_ORDER, NO_3D_MOTION)

# iBUG-68 landmark groups.
_RIGHT_EYE = (36, 37, 38, 39, 40, 41)  # the eye on the image's left
_LEFT_EYE = (42, 43, 44, 45, 46, 47)
_INNER_LIPS = (60, 61, 62, 63, 64, 65, 66, 67)
# Points that lie close to one plane on a real face (brows, eyes, upper lip and mouth corners), and
# the nose tip, which stands well out of it. The jaw line lies behind that plane too, but the
# predictor places it too loosely on a foreshortened face to tell a tilted photo from a head.
_PLANE_IDS = np.array([*range(17, 27), *range(36, 48), 48, 49, 50, 51, 52, 53, 54])
_NOSE_TIP = 30
_DEPTH_MAX_DEG = 20.0

# The open-eye baseline is a high percentile of EAR outside blink prompts: half-blinks and
# squints in between pull a median down, one glint of a wide-open frame should not set it.
_EYE_BASELINE_PERCENTILE = 80.0
# Frames between full searches are searched in a window this many face sizes wider than the
# previous face on every side (a head turn between frames moves the face by up to a third of its
# size), scaled so that face is this many pixels tall (HOG's window is 80; this leaves room for
# the face to come a little closer or go a little farther).
_NEAR_MARGIN = 0.5
_NEAR_FACE_PX = 96


@dataclass(frozen=True)
class LivenessLimits:
    """Thresholds for a liveness check-in; the defaults are gentle (frail elders, small slow moves)."""

    # A blink is seen when the eye aspect ratio falls to this share of the session's open-eye baseline.
    blink_ear_ratio: float = 0.75
    # |Δyaw| from the session's neutral baseline, in the prompted direction, in degrees.
    turn_min_deg: float = 15.0
    # |Δpitch| from the baseline in degrees, either way (a nod down or a chin lift).
    nod_min_deg: float = 12.0
    # The inner-lip mouth aspect ratio must reach this ...
    mouth_min_mar: float = 0.35
    # ... and rise this much over the session's resting mouth.
    mouth_min_rise: float = 0.20
    # Share of frames that must show exactly one face.
    min_face_frames: float = 0.8
    # HOG runs on a copy with this longer side (falling back to 640 when nothing is found there).
    detect_max_side: int = 320
    # Every this-many-th frame (and the first and the last) is searched for faces in full, so a
    # second person is noticed; the others only around the previous frame's face. 1 searches all.
    full_detect_every: int = 4
    # Median grey level (0-255) of the face box over the session; below it the verdict is too_dark.
    min_brightness: float = 40.0
    # How far the nose tip must stand out of the brow-eye-mouth plane, in inter-ocular distances,
    # to explain the nose's parallax in a seen turn or nod (see planar_parallax and nose_depth).
    # Synthetic 3-D turns and nods of the test photos measure 0.40-0.81, the same photos tilted
    # out of plane as flat cards -0.06-0.19 (even when the tilt reads as a 15-34° turn). 0 switches it off.
    min_nose_depth: float = 0.28


@dataclass(frozen=True)
class FrameInput:
    """One decoded frame: RGB pixels, the action the app was prompting (None = neutral), capture time in s."""

    rgb: np.ndarray
    action: str | None
    captured_at: float


@dataclass(frozen=True)
class FrameAnalysis:
    """What one frame shows.

    faces counts the faces found: in the whole frame on frames searched in full, otherwise in the
    window around the previous frame's face (falling back to the whole frame when none is there).
    box, landmarks, pose, ear and mar describe the largest face and are None without one.
    brightness is the mean grey level of the face box, or of the whole frame without a face.
    """

    index: int
    faces: int
    box: FaceBox | None
    landmarks: np.ndarray | None
    pose: HeadPose | None
    ear: float | None
    mar: float | None
    brightness: float


@dataclass(frozen=True)
class LivenessResult:
    """The verdict: passed exactly when reasons is empty.

    actions maps each challenged action to {"seen", "frame", "measure"}: frame is the index of the
    strongest frame where it was seen (None when unseen); measure is the quantity compared with the
    limit at the strongest frame prompted with the action (blink: EAR as a share of the open-eye
    baseline, lower is stronger; turns: Δyaw in the prompted direction; nod: |Δpitch|; open_mouth:
    the MAR rise over the resting mouth). Pose actions that were seen add "parallax" and "depth"
    (see planar_parallax and nose_depth).
    """

    passed: bool
    reasons: tuple[str, ...]
    actions: dict[str, dict]
    frames: tuple[FrameAnalysis, ...]


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
# Finding and following the face


def _detect(rgb: np.ndarray, limits: LivenessLimits) -> list[FaceBox]:
    """Faces in the whole frame, on a small copy first and at 640 when that finds none."""
    boxes = detect_faces(rgb, max_side=limits.detect_max_side)
    if not boxes and max(rgb.shape[:2]) > limits.detect_max_side and limits.detect_max_side < 640:
        boxes = detect_faces(rgb, max_side=640)
    return boxes


def _detect_near(rgb: np.ndarray, previous: FaceBox) -> list[FaceBox]:
    """Faces in a window around the previous frame's face, scaled so that face is _NEAR_FACE_PX tall.

    One HOG pass over a window of about 2×2 face sizes costs a third of a pass over a 320-px frame,
    and finds the face afresh (unlike following landmarks, which drift when the head moves a lot
    between frames taken a third of a second apart).
    """
    import cv2

    height, width = rgb.shape[:2]
    margin = _NEAR_MARGIN * max(previous.width, previous.height)
    top, bottom = max(0, round(previous.top - margin)), min(height, round(previous.bottom + margin))
    left, right = max(0, round(previous.left - margin)), min(width, round(previous.right + margin))
    if bottom - top < 16 or right - left < 16:
        return []
    scale = _NEAR_FACE_PX / max(previous.height, 1)
    window = rgb[top:bottom, left:right]
    size = (max(1, round((right - left) * scale)), max(1, round((bottom - top) * scale)))
    small = cv2.resize(window, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    sx, sy = (right - left) / size[0], (bottom - top) / size[1]
    boxes = [
        FaceBox(
            top=max(0, top + round(r.top() * sy)),
            right=min(width, left + round(r.right() * sx)),
            bottom=min(height, top + round(r.bottom() * sy)),
            left=max(0, left + round(r.left() * sx)),
        )
        for r in face_models().face_detector(small, 0)
    ]
    return sorted(boxes, key=lambda box: box.width * box.height, reverse=True)


def _brightness(rgb: np.ndarray, box: FaceBox | None) -> float:
    region = rgb if box is None or box.width < 2 or box.height < 2 else rgb[box.top : box.bottom, box.left : box.right]
    # Every other pixel is plenty for a mean and quarters the work on large frames.
    region = region[::2, ::2]
    return float(region.mean(axis=(0, 1)) @ np.array([0.299, 0.587, 0.114]))


def _full_search_indices(count: int, every: int) -> set[int]:
    indices = {0, count - 1}
    if every > 0:
        indices.update(range(0, count, every))
    return indices


def analyse_frames(frames: list[FrameInput], limits: LivenessLimits) -> list[FrameAnalysis]:
    """Find the face in every frame and measure its landmarks, pose, eyes, mouth and brightness.

    The first and last frames (and every limits.full_detect_every-th) are searched in full, so a
    second face is noticed. The others are searched only around the previous frame's face, and
    in full when it is not found there.
    """
    full = _full_search_indices(len(frames), limits.full_detect_every)
    previous: FaceBox | None = None
    out: list[FrameAnalysis] = []
    for index, frame in enumerate(frames):
        rgb = frame.rgb
        boxes: list[FaceBox] = []
        if index not in full and previous is not None:
            boxes = _detect_near(rgb, previous)
        if not boxes:
            boxes = _detect(rgb, limits)
        box = boxes[0] if boxes else None
        landmarks = landmarks68(rgb, box) if box is not None else None
        out.append(_measure(index, rgb, len(boxes), box, landmarks))
        previous = box
    return out


def _measure(
    index: int, rgb: np.ndarray, faces: int, box: FaceBox | None, landmarks: np.ndarray | None
) -> FrameAnalysis:
    import cv2

    if box is None or landmarks is None:
        return FrameAnalysis(index, faces, None, None, None, None, None, _brightness(rgb, None))
    try:
        pose: HeadPose | None = head_pose(landmarks, rgb.shape[:2])
    except (ValueError, cv2.error):
        pose = None
    return FrameAnalysis(
        index=index,
        faces=faces,
        box=box,
        landmarks=landmarks,
        pose=pose,
        ear=eye_aspect_ratio(landmarks),
        mar=mouth_aspect_ratio(landmarks),
        brightness=_brightness(rgb, box),
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
    # Turned and nodded faces are left out when there are others: foreshortening narrows the eyes
    # more than it shortens the lid gap, which raises EAR and would make every blink look shallower.
    open_eyes = [a.ear for f, a in usable if f.action not in (BLINK, *POSE_ACTIONS) and a.ear is not None]
    if not open_eyes:
        open_eyes = [a.ear for f, a in usable if f.action != BLINK and a.ear is not None]
    if not open_eyes:
        open_eyes = [a.ear for _, a in usable if a.ear is not None]
    rest_mouth = [a.mar for f, a in usable if f.action != OPEN_MOUTH and a.mar is not None]
    mar = float(np.median(rest_mouth)) if rest_mouth else None
    if mar is None and usable:
        mar = float(np.percentile([a.mar for _, a in usable if a.mar is not None], 20))

    posed = [(f, a) for f, a in usable if a.pose is not None]
    neutral = [(f, a) for f, a in posed if f.action is None]
    if not neutral:
        neutral = [(f, a) for f, a in posed if f.action not in POSE_ACTIONS]
    if not neutral:
        return _Baseline(_ear_baseline(open_eyes), mar, None, None, None)
    yaw = float(np.median([a.pose.yaw for _, a in neutral]))
    pitch = float(np.median([a.pose.pitch for _, a in neutral]))
    closest = min(neutral, key=lambda fa: abs(fa[1].pose.yaw - yaw) + abs(fa[1].pose.pitch - pitch))[1]
    return _Baseline(_ear_baseline(open_eyes), mar, yaw, pitch, closest)


def _ear_baseline(values: list[float]) -> float | None:
    return float(np.percentile(values, _EYE_BASELINE_PERCENTILE)) if values else None


def _frame_measure(
    action: str, analysis: FrameAnalysis, base: _Baseline, limits: LivenessLimits, mirrored: bool
) -> tuple[float, bool] | None:
    """The measure for one prompted frame and whether it shows the action; None when unmeasurable."""
    if action == BLINK:
        if analysis.ear is None or not base.ear:
            return None
        ratio = analysis.ear / base.ear
        return ratio, ratio <= limits.blink_ear_ratio
    if action == OPEN_MOUTH:
        if analysis.mar is None or base.mar is None:
            return None
        rise = analysis.mar - base.mar
        return rise, analysis.mar >= limits.mouth_min_mar and rise >= limits.mouth_min_rise
    if analysis.pose is None or base.yaw is None or base.pitch is None:
        return None
    if action == NOD:
        delta = abs(analysis.pose.pitch - base.pitch)
        return delta, delta >= limits.nod_min_deg
    # Unmirrored, turning to one's own left sends the nose toward the image's right: yaw grows.
    direction = 1.0 if action == TURN_LEFT else -1.0
    if mirrored:
        direction = -direction
    delta = direction * (analysis.pose.yaw - base.yaw)
    return delta, delta >= limits.turn_min_deg


def check_liveness(
    frames: list[FrameInput], actions: list[str], limits: LivenessLimits, *, mirrored: bool = False
) -> LivenessResult:
    """Analyse the frames and decide whether they show one live face doing the challenged actions in order.

    mirrored says the frames were saved mirrored (as a front camera's preview shows them), which
    swaps which way a turn to the left moves the nose in the image.
    """
    unknown = [a for a in actions if a not in ACTIONS]
    if unknown:
        raise ValueError(f"unknown liveness actions {unknown}; have {', '.join(ACTIONS)}")
    analyses = analyse_frames(frames, limits)
    return _decide(frames, analyses, actions, limits, mirrored=mirrored)


def _decide(
    frames: list[FrameInput],
    analyses: list[FrameAnalysis],
    actions: list[str],
    limits: LivenessLimits,
    *,
    mirrored: bool,
) -> LivenessResult:
    reasons: set[str] = set()
    count = len(frames)
    single = sum(1 for a in analyses if a.faces == 1)
    if count == 0 or single < limits.min_face_frames * count:
        reasons.add(FACE_NOT_FOUND)
    if any(a.faces > 1 for a in analyses):
        reasons.add(MULTIPLE_FACES)
    lit = [a.brightness for a in analyses if a.box is not None] or [a.brightness for a in analyses]
    if lit and float(np.median(lit)) < limits.min_brightness:
        reasons.add(TOO_DARK)

    usable = [(f, a) for f, a in zip(frames, analyses, strict=True) if a.landmarks is not None]
    base = _baseline(usable)
    report: dict[str, dict] = {}
    evidence: list[tuple[float, int]] = []
    for action in actions:
        seen_at: tuple[float, int] | None = None
        best: float | None = None
        best_seen: tuple[float, FrameAnalysis, FrameInput] | None = None
        stronger_is_lower = action == BLINK
        for frame, analysis in usable:
            if frame.action != action:
                continue
            measured = _frame_measure(action, analysis, base, limits, mirrored)
            if measured is None:
                continue
            value, seen = measured
            if best is None or (value < best if stronger_is_lower else value > best):
                best = value
            if seen and (best_seen is None or (value < best_seen[0] if stronger_is_lower else value > best_seen[0])):
                best_seen = (value, analysis, frame)
        entry: dict = {"seen": best_seen is not None, "frame": None, "measure": _round(best)}
        if best_seen is not None:
            _, analysis, frame = best_seen
            entry["frame"] = analysis.index
            seen_at = (frame.captured_at, analysis.index)
            evidence.append(seen_at)
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

    ordered = tuple(r for r in REASONS if r in reasons)
    return LivenessResult(passed=not ordered, reasons=ordered, actions=report, frames=tuple(analyses))


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
