"""Compute 128-d face templates and compare them."""

from __future__ import annotations

import face_recognition
import numpy as np

# Also undoes face_recognition's import-time switch to accepting truncated images.
from worker.face.detect import FaceBox

TEMPLATE_DIMS = 128
TEMPLATE_BYTES = TEMPLATE_DIMS * 4
_TEMPLATE_DTYPE = np.dtype("<f4")


def encode_face(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """Return the 128-d float64 face descriptor for the face in box."""
    # Runs on the full image: dlib cuts a 150 px aligned chip itself in under a millisecond and the
    # network's ~100 ms does not depend on image size, so downscaling first would only add work.
    location = (box.top, box.right, box.bottom, box.left)
    (encoding,) = face_recognition.face_encodings(rgb, known_face_locations=[location], num_jitters=1, model="small")
    return np.asarray(encoding, dtype=np.float64)


def face_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance between two templates; dlib's usual same-person cut-off is 0.6."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def template_to_bytes(vec: np.ndarray) -> bytes:
    """Serialise a template as 128 little-endian float32 values (512 bytes)."""
    arr = np.asarray(vec)
    if arr.shape != (TEMPLATE_DIMS,):
        raise ValueError(f"template must have shape ({TEMPLATE_DIMS},), got {arr.shape}")
    return arr.astype(_TEMPLATE_DTYPE).tobytes()


def template_from_bytes(data: bytes) -> np.ndarray:
    """Parse 512 bytes written by template_to_bytes back into a float64 template."""
    if len(data) != TEMPLATE_BYTES:
        raise ValueError(f"template must be {TEMPLATE_BYTES} bytes, got {len(data)}")
    return np.frombuffer(data, dtype=_TEMPLATE_DTYPE).astype(np.float64)
