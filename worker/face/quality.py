"""Decide whether a photo is good enough to enrol as a beneficiary's reference face."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from worker.face.detect import FaceBox, find_faces
from worker.face.limits import QualityLimits
from worker.face.pose import head_pose

# Stable reason codes; clients map them to spoken or pictorial retake instructions.
NO_FACE = "no_face"
MULTIPLE_FACES = "multiple_faces"
FACE_TOO_SMALL = "face_too_small"
FACE_CUT_OFF = "face_cut_off"
TOO_BLURRY = "too_blurry"
TOO_DARK = "too_dark"
TOO_BRIGHT = "too_bright"
NOT_FRONTAL = "not_frontal"

# Sharpness is measured at a fixed face height so it does not grow with camera resolution,
# and at a fixed contrast so a dark photo is reported as dark rather than also as blurry.
SHARPNESS_FACE_HEIGHT = 160
SHARPNESS_GREY_STD = 50.0


@dataclass(frozen=True)
class QualityReport:
    """Outcome of a quality check: reasons are empty exactly when ok is True."""

    ok: bool
    reasons: tuple[str, ...]
    face: FaceBox | None
    metrics: dict[str, float] = field(default_factory=dict)


def assess_enrolment_photo(rgb: np.ndarray, limits: QualityLimits = QualityLimits()) -> QualityReport:
    """Check one RGB photo against limits and report every reason it falls short."""
    import cv2

    faces = find_faces(rgb)
    if not faces:
        return QualityReport(ok=False, reasons=(NO_FACE,), face=None)
    if len(faces) > 1:
        return QualityReport(ok=False, reasons=(MULTIPLE_FACES,), face=None)

    face = faces[0].box
    height, width = rgb.shape[:2]
    # Float grey keeps the fractional levels a dark crop would lose to rounding, which would
    # otherwise show up as false edges once the contrast is normalised.
    crop = rgb[face.top : face.bottom, face.left : face.right].astype(np.float32)
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    pose = head_pose(faces[0].points68, (height, width))
    metrics = {
        "face_px": float(face.height),
        "sharpness": round(face_sharpness(grey), 1),
        "brightness": round(float(grey.mean()), 1),
        "yaw": round(pose.yaw, 1),
        "pitch": round(pose.pitch, 1),
        "roll": round(pose.roll, 1),
    }

    margin = limits.min_edge_margin * face.height
    gaps = (face.top, face.left, height - face.bottom, width - face.right)
    checks = (
        (FACE_TOO_SMALL, face.height < limits.min_face_px),
        (FACE_CUT_OFF, min(gaps) <= margin),
        (TOO_BLURRY, metrics["sharpness"] < limits.min_sharpness),
        (TOO_DARK, metrics["brightness"] < limits.min_brightness),
        (TOO_BRIGHT, metrics["brightness"] > limits.max_brightness),
        (NOT_FRONTAL, abs(pose.yaw) > limits.max_abs_yaw or abs(pose.pitch) > limits.max_abs_pitch),
    )
    reasons = tuple(code for code, failed in checks if failed)
    return QualityReport(ok=not reasons, reasons=reasons, face=face, metrics=metrics)


def face_sharpness(grey_face: np.ndarray) -> float:
    """Variance of the Laplacian of a grey face crop scaled to a fixed height and contrast."""
    import cv2

    h, w = grey_face.shape[:2]
    size = (max(1, round(w * SHARPNESS_FACE_HEIGHT / h)), SHARPNESS_FACE_HEIGHT)
    interpolation = cv2.INTER_AREA if h > SHARPNESS_FACE_HEIGHT else cv2.INTER_CUBIC
    scaled = cv2.resize(grey_face.astype(np.float32), size, interpolation=interpolation).astype(np.float64)
    spread = scaled.std()
    if spread < 1.0:
        # A flat patch has no edges to judge; call it unsharp rather than divide by ~0.
        return 0.0
    return float(cv2.Laplacian(scaled * (SHARPNESS_GREY_STD / spread), cv2.CV_64F).var())
