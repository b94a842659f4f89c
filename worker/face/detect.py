"""Find faces with dlib's HOG detector and locate their 68 landmarks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worker.face.models import face_models

# Below this shorter side a downscaled frame is small enough that one upsample stays cheap.
_UPSAMPLE_RETRY_MAX_SHORT_SIDE = 400


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in original-image pixels; right and bottom are exclusive."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def width(self) -> int:
        """Box width in pixels."""
        return self.right - self.left

    @property
    def height(self) -> int:
        """Box height in pixels."""
        return self.bottom - self.top


def detect_faces(rgb: np.ndarray, *, max_side: int = 640) -> list[FaceBox]:
    """Detect frontal-ish faces, largest first, in original-image coordinates."""
    import cv2

    face_recognition = face_models()
    height, width = rgb.shape[:2]
    scale = min(1.0, max_side / max(height, width))
    small = rgb
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)

    found = face_recognition.face_locations(small, number_of_times_to_upsample=0, model="hog")
    if not found and min(small.shape[:2]) < _UPSAMPLE_RETRY_MAX_SHORT_SIDE:
        # HOG's window is 80 px; a small frame may hold a usable face below that.
        found = face_recognition.face_locations(small, number_of_times_to_upsample=1, model="hog")

    sy = height / small.shape[0]
    sx = width / small.shape[1]
    boxes = [
        FaceBox(
            top=max(0, round(top * sy)),
            right=min(width, round(right * sx)),
            bottom=min(height, round(bottom * sy)),
            left=max(0, round(left * sx)),
        )
        for top, right, bottom, left in found
    ]
    return sorted(boxes, key=lambda b: b.width * b.height, reverse=True)


def landmarks68(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """Return the 68 iBUG landmarks of the face in box as a (68, 2) float array of (x, y)."""
    import dlib

    rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
    # Reuse the predictor face_recognition already loaded rather than a second 100 MB copy.
    shape = face_models().pose_predictor_68_point(rgb, rect)
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
