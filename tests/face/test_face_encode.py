"""encode_face distances on the real photos, and the template byte format."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from tests.support.photos import photo_bytes
from worker.face.detect import FaceBox, detect_faces
from worker.face.encode import (
    TEMPLATE_BYTES,
    encode_enrolment_face,
    encode_face,
    face_distance,
    template_from_bytes,
    template_to_bytes,
)
from worker.face.image import decode_image

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}
OBAMAS = ("obama.jpg", "obama2.jpg", "obama3.jpg")


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    """The four portraits, decoded once."""
    return {name: decode_image(photo_bytes(name), **LIMITS) for name in (*OBAMAS, "biden.jpg")}


@pytest.fixture(scope="module")
def templates(photos: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One template per portrait."""
    return {name: encode_face(rgb, detect_faces(rgb)[0]) for name, rgb in photos.items()}


def test_template_shape_and_determinism(photos: dict[str, np.ndarray], templates: dict[str, np.ndarray]) -> None:
    template = templates["obama.jpg"]
    assert template.shape == (128,) and template.dtype == np.float64
    rgb = photos["obama.jpg"]
    assert face_distance(template, encode_face(rgb, detect_faces(rgb)[0])) == 0.0


@pytest.mark.parametrize(("a", "b"), list(itertools.combinations(OBAMAS, 2)))
def test_same_person_is_close(templates: dict[str, np.ndarray], a: str, b: str) -> None:
    assert face_distance(templates[a], templates[b]) < 0.45


@pytest.mark.parametrize("name", OBAMAS)
def test_different_people_are_far(templates: dict[str, np.ndarray], name: str) -> None:
    assert face_distance(templates[name], templates["biden.jpg"]) > 0.6


def test_lower_resolution_copy_encodes_alike(photos: dict[str, np.ndarray], templates: dict[str, np.ndarray]) -> None:
    # A check-in camera sees the face at ~130 px rather than ~260 px; the template barely moves.
    rgb = photos["obama3.jpg"]
    small = cv2.resize(rgb, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    assert face_distance(templates["obama3.jpg"], encode_face(small, detect_faces(small)[0])) < 0.1


@pytest.mark.parametrize("name", (*OBAMAS, "biden.jpg"))
def test_an_enrolment_template_is_the_mean_of_the_face_and_its_mirror_image(photos, templates, name):
    # Encoding the mirrored photo aligns it afresh (its landmarks a pixel apart), so the mean of the
    # two photos' descriptors is near the enrolment template, nearer than the photo's own descriptor.
    rgb = photos[name]
    box = detect_faces(rgb)[0]
    width = rgb.shape[1]
    mirrored = np.ascontiguousarray(rgb[:, ::-1])
    mirrored_box = FaceBox(top=box.top, right=width - box.left, bottom=box.bottom, left=width - box.right)
    both = (templates[name] + encode_face(mirrored, mirrored_box)) / 2
    enrolled = encode_enrolment_face(rgb, box)
    assert face_distance(enrolled, both) < face_distance(enrolled, templates[name])
    assert face_distance(enrolled, encode_enrolment_face(rgb, box)) == 0.0


def test_a_check_in_frame_comes_closer_to_enrolment_templates_than_to_single_photo_ones(photos, templates):
    # obama3 (a check-in frame) against obama2 enrolled, the suite's hardest genuine pair.
    rgb = photos["obama2.jpg"]
    enrolled = encode_enrolment_face(rgb, detect_faces(rgb)[0])
    probe = templates["obama3.jpg"]
    assert face_distance(probe, enrolled) < face_distance(probe, templates["obama2.jpg"]) - 0.01


def test_template_bytes_round_trip(templates: dict[str, np.ndarray]) -> None:
    template = templates["obama.jpg"]
    data = template_to_bytes(template)
    assert len(data) == TEMPLATE_BYTES == 512
    assert np.frombuffer(data, dtype="<f4")[0] == np.float32(template[0])
    restored = template_from_bytes(data)
    assert restored.dtype == np.float64 and restored.shape == (128,)
    assert face_distance(template, restored) < 1e-6
    assert template_to_bytes(restored) == data


def test_template_validation() -> None:
    with pytest.raises(ValueError):
        template_from_bytes(b"\0" * 511)
    with pytest.raises(ValueError):
        template_to_bytes(np.zeros(127))
    with pytest.raises(ValueError):
        template_to_bytes(np.zeros((2, 128)))


def test_face_distance_is_euclidean() -> None:
    a = np.zeros(128)
    b = np.zeros(128)
    b[:2] = (3.0, 4.0)
    assert face_distance(a, b) == 5.0
