"""Compute 128-d face templates and compare them."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
from threadpoolctl import threadpool_limits

from worker.face.detect import FaceBox, detect_faces
from worker.face.models import face_models
from worker.face.resnet import CHIP_SIZE, FaceDescriptorNet

TEMPLATE_DIMS = 128
TEMPLATE_BYTES = TEMPLATE_DIMS * 4
_TEMPLATE_DTYPE = np.dtype("<f4")
# face_recognition's chip: aligned on the 5-point landmarks with a quarter of the face as margin.
_CHIP_PADDING = 0.25


@cache
def _network() -> FaceDescriptorNet:
    # One copy per process (about 22 MB of weights), read on first use. Its matrix products are
    # sized for one core, and workers run one process per core: more BLAS threads only contend
    # (ten times slower per face on a busy two-core machine).
    threadpool_limits(limits=1, user_api="blas")
    return FaceDescriptorNet()


def encode_faces(faces: Sequence[tuple[np.ndarray, FaceBox]], *, mirrored: bool = False) -> np.ndarray:
    """Return one 128-d float64 descriptor per (RGB image, face box), as an (N, 128) array.

    The same descriptors as face_recognition.face_encodings (dlib's ResNet on dlib's aligned chip),
    computed in one batch by the numpy port of the network, several times faster than dlib-bin's.
    `mirrored` averages each chip's descriptor with its mirror image's (see encode_enrolment_face).
    """
    import dlib

    predictor = face_models().pose_predictor_5_point
    chips = [
        dlib.get_face_chip(
            rgb,
            predictor(rgb, dlib.rectangle(box.left, box.top, box.right, box.bottom)),
            CHIP_SIZE,
            _CHIP_PADDING,
        )
        for rgb, box in faces
    ]
    if not chips:
        return np.empty((0, TEMPLATE_DIMS))
    batch = np.stack(chips)
    if not mirrored:
        return _network().describe(batch)
    both = _network().describe(np.concatenate([batch, batch[:, :, ::-1]]))
    return (both[: len(batch)] + both[len(batch) :]) / 2


def encode_face(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """Return the 128-d float64 face descriptor for the face in box (a check-in frame's)."""
    return encode_faces([(rgb, box)])[0]


def encode_enrolment_face(rgb: np.ndarray, box: FaceBox) -> np.ndarray:
    """The enrolment template of the face in box: the mean of its chip's and the mirrored chip's descriptors.

    A face is nearly symmetric but a photo of it is not (light from one side, a slight turn, hair
    over one eye); averaging over the mirror image takes out much of what belongs to the photo
    rather than the person. Measured on the East Asian development set (`fieldcheck bench
    matching`), it brings genuine check-ins closer to their enrolment than strangers, at one more
    encoding per enrolment photo and none per check-in (the frames are encoded as they are).
    """
    return encode_faces([(rgb, box)], mirrored=True)[0]


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


# HOG's window is 80 px: a face smaller than that is found only in an upsampled image. Each
# upsample quadruples the work, so it runs only when the plain pass found nothing and only on
# images small enough to keep it under a few hundred milliseconds (a large image that shows no
# face at 640 px is not a small face).
_UPSAMPLE_MAX_PIXELS = 700_000


def find_face(rgb: np.ndarray, *, upsample: int = 2) -> FaceBox | None:
    """The largest face, upsampling up to `upsample` times when a plain pass finds none."""
    faces = detect_faces(rgb)
    height, width = rgb.shape[:2]
    times = 1
    while not faces and times <= upsample and height * width <= _UPSAMPLE_MAX_PIXELS:
        found = face_models().face_locations(rgb, number_of_times_to_upsample=times, model="hog")
        faces = sorted(
            (FaceBox(top=t, right=r, bottom=b, left=left) for t, r, b, left in found),
            key=lambda box: box.width * box.height,
            reverse=True,
        )
        times += 1
    return faces[0] if faces else None
