"""Find faces and their landmarks with MediaPipe Face Mesh: one path for every photo and frame.

MediaPipe 0.10.21's wheel ships BlazeFace and the 478-point face mesh (with irises) as TFLite
files under Apache-2.0. The mesh runs in static-image mode: every image is detected and meshed
afresh, never tracked from the previous one, so identical pixels always give identical
landmarks and no frame of a session is measured another way than its neighbours.

dlib's 68-point landmark model is not used anywhere (its training set, iBUG 300-W, forbids
commercial use). Code written for the 68-point layout reads the same positions off the mesh
(`Face.points68`): the index table below picks the mesh vertex at each of those anatomical places.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np

# Mesh vertices at the anatomical places of the 68-point layout (jaw 0-16, brows 17-26, nose
# 27-35, eyes 36-47, outer lips 48-59, inner lips 60-67), image-left first as in that layout.
MESH_68 = (
    *(162, 234, 93, 58, 172, 136, 149, 148, 152, 377, 378, 365, 397, 288, 323, 454, 389),
    *(70, 63, 105, 66, 107, 336, 296, 334, 293, 300),
    *(168, 197, 5, 4, 75, 97, 2, 326, 305),
    *(33, 160, 158, 133, 153, 144, 362, 385, 387, 263, 373, 380),
    *(61, 39, 37, 0, 267, 269, 291, 405, 314, 17, 84, 181),
    *(78, 82, 13, 312, 308, 317, 14, 87),
)
# The face box is placed like dlib's HOG box (a square from the brows to the lips' bottom), because
# dlib's 5-point alignment, which the identity network needs, was trained on those boxes. Fitted on
# 98 photos of the East Asian development set: its centre lies this many inter-ocular distances
# below the midpoint of the eyes, and its side is the mean of these multiples of the inter-ocular
# distance and of the eye-to-mouth distance (each within about 10% of HOG's box).
_BOX_CENTRE_BELOW_EYES = 0.513
_BOX_PER_EYE_SPAN = 2.417
_BOX_PER_EYE_TO_MOUTH = 2.203
_EYE_IMAGE_LEFT = (33, 133)
_EYE_IMAGE_RIGHT = (263, 362)
_MOUTH_CORNERS = (61, 291)
# Each face is looked for with this detection confidence; a second face is reported so a frame
# with two people is noticed.
_MIN_CONFIDENCE = 0.5
_MAX_FACES = 2


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


@dataclass(frozen=True)
class Face:
    """One face: its 478 mesh points in pixels (x, y, and z: depth on the x scale, nearer < 0) and its box."""

    mesh: np.ndarray
    box: FaceBox

    @cached_property
    def points68(self) -> np.ndarray:
        """The mesh points at the 68-point layout's places, a (68, 2) array of (x, y)."""
        return self.mesh[list(MESH_68), :2].copy()


def find_faces(rgb: np.ndarray) -> list[Face]:
    """Faces in an RGB image with their mesh, largest first (at most two: enough to notice a second person)."""
    height, width = rgb.shape[:2]
    found = _run(np.ascontiguousarray(rgb))
    faces = []
    for landmarks in found:
        mesh = _normalised_points(landmarks) * (width, height, width)
        faces.append(Face(mesh=mesh, box=_box(mesh, width, height)))
    return sorted(faces, key=lambda f: f.box.width * f.box.height, reverse=True)


# A NormalizedLandmarkList as MediaPipe serialises it: per point, field 1 (a 15-byte message) holding
# x, y and z (fields 1-3, each a 4-byte float) and nothing else.
_POINT = np.dtype(
    [("key", "u1"), ("size", "u1"), ("kx", "u1"), ("x", "<f4"), ("ky", "u1"), ("y", "<f4"), ("kz", "u1"), ("z", "<f4")]
)
_POINT_KEYS = (0x0A, 15, 0x0D, 0x15, 0x1D)


def _normalised_points(landmarks) -> np.ndarray:
    """The mesh's (x, y, z) in MediaPipe's normalised units as a (points, 3) float64 array.

    Read from the serialised message in one pass: the same float32 values as reading each point's
    attributes, which costs about as much as a twentieth of a mesh pass. A message laid out any
    other way is read point by point.
    """
    data = landmarks.SerializeToString()
    if len(data) % _POINT.itemsize == 0:
        points = np.frombuffer(data, dtype=_POINT)
        keys = (points["key"], points["size"], points["kx"], points["ky"], points["kz"])
        if all(np.all(k == expected) for k, expected in zip(keys, _POINT_KEYS, strict=True)):
            return np.stack([points["x"], points["y"], points["z"]], axis=1).astype(np.float64)
    return np.array([(p.x, p.y, p.z) for p in landmarks.landmark], dtype=np.float64)


def detect_faces(rgb: np.ndarray) -> list[FaceBox]:
    """Face boxes in an RGB image, largest first."""
    return [face.box for face in find_faces(rgb)]


def _box(mesh: np.ndarray, width: int, height: int) -> FaceBox:
    """A square placed as dlib's HOG box would be, from the eyes and mouth (so it turns with a tilted head)."""
    points = mesh[:, :2]
    left_eye = points[list(_EYE_IMAGE_LEFT)].mean(axis=0)
    right_eye = points[list(_EYE_IMAGE_RIGHT)].mean(axis=0)
    eyes = (left_eye + right_eye) / 2
    across = right_eye - left_eye
    span = max(float(np.linalg.norm(across)), 1.0)
    down = np.array([-across[1], across[0]]) / span
    to_mouth = float(np.linalg.norm(points[list(_MOUTH_CORNERS)].mean(axis=0) - eyes))
    centre = eyes + _BOX_CENTRE_BELOW_EYES * span * down
    half = (_BOX_PER_EYE_SPAN * span + _BOX_PER_EYE_TO_MOUTH * to_mouth) / 4
    return FaceBox(
        top=max(0, round(centre[1] - half)),
        right=min(width, round(centre[0] + half)),
        bottom=min(height, round(centre[1] + half)),
        left=max(0, round(centre[0] - half)),
    )


_lock = threading.Lock()
# Until the first face is meshed, MediaPipe may still log a one-time warning (the ROI projection).
_first_face_pending = True


def _run(rgb: np.ndarray) -> list:
    global _first_face_pending
    # One graph per process, used by one thread at a time (a MediaPipe graph is not re-entrant).
    mesh = _face_mesh()
    with _lock:
        if _first_face_pending:
            with _quiet_stderr():
                result = mesh.process(rgb)
            _first_face_pending = not result.multi_face_landmarks
        else:
            result = mesh.process(rgb)
    return list(result.multi_face_landmarks or [])


@cache
def _face_mesh():
    """The Face Mesh graph, built on first use (mediapipe is imported only here: nothing at start-up loads it)."""
    import cv2

    # A worker runs one process per core, and OpenCV's resizes, blurs and colour conversions here
    # are a fraction of a millisecond each: a thread pool only adds its hand-offs to the CPU time
    # (the mesh's TFLite already runs on one thread).
    cv2.setNumThreads(1)
    with _quiet_stderr():
        import mediapipe as mp

        graph = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True,
            max_num_faces=_MAX_FACES,
            refine_landmarks=True,
            min_detection_confidence=_MIN_CONFIDENCE,
        )
        # TFLite and MediaPipe log their start-up notices (XNNPACK delegate, feedback manager)
        # once, through absl to stderr, before Python can configure them: run one image now,
        # while stderr is closed.
        graph.process(np.full((192, 192, 3), 128, np.uint8))
    return graph


@contextlib.contextmanager
def _quiet_stderr():
    """Send the process's stderr (file descriptor 2, where absl writes) to /dev/null for a moment."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
