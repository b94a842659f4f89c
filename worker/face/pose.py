"""Estimate head pose from landmarks in the 68-point layout (read off the face mesh) with a generic 3-D face model.

Angles are in degrees, relative to the line of sight from the camera to the nose, in the image's
own frame:
- yaw > 0: the nose points toward the image's right edge (a subject in an unmirrored photo
  turning to their own left); a horizontally mirrored image flips the sign.
- pitch > 0: the nose points up (chin raised); pitch < 0 is a nod down.
- roll > 0: the head is tilted clockwise as seen in the image (the eye on the image's right is lower).

Check-in frames are the camera's own (never the mirrored selfie preview), so a subject's own left
is the image's right.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Indices in the 68-point layout: nose tip, chin, outer eye corners (image-left, image-right), mouth corners.
LANDMARK_IDS = (30, 8, 36, 45, 48, 54)

# Mean adult face in millimetres (the six matching points of the OpenFace 68-landmark mean shape,
# made left-right symmetric), nose tip at the origin, axes as the camera's for a frontal face
# (x right, y down, z away from the camera) so the identity rotation means "looking at the lens".
# The older hand-made six-point model sets the eyes too shallow behind the nose and reads yaw
# about a third too large.
MODEL_POINTS = np.array(
    [
        (0.0, 0.0, 0.0),  # nose tip
        (0.0, 85.5, 36.1),  # chin
        (-45.6, -29.4, 42.9),  # outer corner of the eye on the image's left
        (45.6, -29.4, 42.9),  # outer corner of the eye on the image's right
        (-28.9, 36.8, 34.2),  # mouth corner on the image's left
        (28.9, 36.8, 34.2),  # mouth corner on the image's right
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class HeadPose:
    """Head rotation in degrees; signs as in the module docstring."""

    yaw: float
    pitch: float
    roll: float


def head_pose(landmarks: np.ndarray, image_size: tuple[int, int]) -> HeadPose:
    """Solve the head's rotation from 68-layout landmarks in an image of (height, width) pixels."""
    import cv2

    height, width = image_size
    focal = float(width)
    camera = np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])
    image_points = np.ascontiguousarray(landmarks[list(LANDMARK_IDS)], dtype=np.float64)

    # Start from a frontal face at the distance its eye span implies, so the solver settles on
    # the nearby solution instead of a mirrored one behind the camera.
    eye_span_px = float(np.linalg.norm(image_points[3] - image_points[2]))
    eye_span_model = float(MODEL_POINTS[3, 0] - MODEL_POINTS[2, 0])
    depth = focal * eye_span_model / max(eye_span_px, 1.0)
    nose = image_points[0]
    tvec = np.array([[(nose[0] - width / 2.0) * depth / focal], [(nose[1] - height / 2.0) * depth / focal], [depth]])
    rvec = np.zeros((3, 1))
    ok, rvec, tvec = cv2.solvePnP(
        MODEL_POINTS, image_points, camera, None, rvec, tvec, useExtrinsicGuess=True, flags=cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        raise ValueError("head pose could not be solved from these landmarks")
    rotation, _ = cv2.Rodrigues(rvec)

    # Measure against the line of sight to the nose rather than the optical axis: that is what
    # the photo shows, and it does not swing with the guessed focal length when the face is
    # off-centre (as in a full-length portrait).
    sight_z = tvec.ravel() / np.linalg.norm(tvec)
    sight_x = np.cross([0.0, 1.0, 0.0], sight_z)
    sight_x /= np.linalg.norm(sight_x)
    sight_y = np.cross(sight_z, sight_x)
    to_sight = np.stack([sight_x, sight_y, sight_z])

    # Read the angles off where the face's forward and sideways axes point, which avoids
    # the ordering ambiguity of a generic Euler decomposition.
    forward = to_sight @ rotation @ np.array([0.0, 0.0, -1.0])
    across = to_sight @ rotation @ np.array([1.0, 0.0, 0.0])
    yaw = math.degrees(math.atan2(forward[0], -forward[2]))
    pitch = math.degrees(math.atan2(-forward[1], math.hypot(forward[0], forward[2])))
    roll = math.degrees(math.atan2(across[1], across[0]))
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll)
