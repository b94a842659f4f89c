"""The numpy port of dlib's face descriptor network gives dlib's descriptors."""

from __future__ import annotations

import itertools
from pathlib import Path

import dlib
import face_recognition
import face_recognition.api as fr_api
import numpy as np
import pytest

from tests.support.photos import PHOTO_NAMES, photo_bytes
from tests.support.sessions import decoded, genuine_session
from worker.face.detect import detect_faces
from worker.face.image import decode_image
from worker.face.resnet import FaceDescriptorNet, default_model_path, load_layers

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}
# Both compute in float32 but sum in different orders (dlib's own matrix multiply vs OpenBLAS, and the
# affine_ layers folded into the convolutions here): the descriptors differ by about 3e-7 per component.
MAX_ABS_DIFF = 1e-5
MAX_L2_DIFF = 1e-5


@pytest.fixture(scope="module")
def net() -> FaceDescriptorNet:
    return FaceDescriptorNet()


def _chip_and_reference(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """face_recognition's aligned 150 px chip for the largest face, and its descriptor from face_encodings."""
    box = detect_faces(rgb)[0]
    rect = dlib.rectangle(box.left, box.top, box.right, box.bottom)
    # The chip face_recognition's compute_face_descriptor cuts: 150 px, padding 0.25, no jitter
    # (its 5-point alignment: the 68-point model is never used).
    chip = dlib.get_face_chip(rgb, fr_api.pose_predictor_5_point(rgb, rect), 150, 0.25)
    location = (box.top, box.right, box.bottom, box.left)
    (reference,) = face_recognition.face_encodings(rgb, [location], num_jitters=1, model="small")
    return chip, np.asarray(reference)


@pytest.fixture(scope="module")
def photo_chips() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Chip and dlib descriptor for every real photo."""
    return {name: _chip_and_reference(decode_image(photo_bytes(name), **LIMITS)) for name in PHOTO_NAMES}


def _assert_close(mine: np.ndarray, reference: np.ndarray) -> None:
    assert mine.shape == reference.shape and mine.dtype == np.float64
    assert np.abs(mine - reference).max() < MAX_ABS_DIFF
    assert np.linalg.norm(mine - reference, axis=-1).max() < MAX_L2_DIFF


@pytest.mark.parametrize("name", PHOTO_NAMES)
def test_real_photo_matches_dlib(
    net: FaceDescriptorNet, photo_chips: dict[str, tuple[np.ndarray, np.ndarray]], name: str
) -> None:
    chip, reference = photo_chips[name]
    (mine,) = net.describe(chip[None])
    _assert_close(mine, reference)
    # face_encodings is exactly dlib's network on that chip.
    assert np.array_equal(reference, np.asarray(fr_api.face_encoder.compute_face_descriptor(chip)))


def test_batch_matches_single_chips(
    net: FaceDescriptorNet, photo_chips: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    chips = np.stack([chip for chip, _ in photo_chips.values()])
    references = np.stack([reference for _, reference in photo_chips.values()])
    batch = net.describe(chips)
    assert batch.shape == (len(chips), 128)
    _assert_close(batch, references)
    assert np.abs(batch - np.stack([net.describe(chip[None])[0] for chip in chips])).max() < 1e-6


def test_distances_are_preserved(net: FaceDescriptorNet, photo_chips: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    names = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")
    mine = dict(zip(names, net.describe(np.stack([photo_chips[n][0] for n in names])), strict=True))
    for a, b in itertools.combinations(names, 2):
        ours = np.linalg.norm(mine[a] - mine[b])
        theirs = np.linalg.norm(photo_chips[a][1] - photo_chips[b][1])
        assert abs(ours - theirs) < MAX_L2_DIFF
        same = "biden.jpg" not in (a, b)
        assert (ours < 0.6) == same, (a, b, ours)


@pytest.mark.parametrize(
    ("photo", "actions"), [("obama.jpg", ["turn_left", "blink"]), ("biden.jpg", ["nod", "open_mouth"])]
)
def test_synthetic_frames_match_dlib(net: FaceDescriptorNet, photo: str, actions: list[str]) -> None:
    frames = decoded(genuine_session(photo, actions, seed=3))
    pairs = [_chip_and_reference(rgb) for rgb in frames]
    chips = np.stack([chip for chip, _ in pairs])
    _assert_close(net.describe(chips), np.stack([reference for _, reference in pairs]))


def test_model_file_layout() -> None:
    means, layers = load_layers()
    assert np.allclose(means, [122.782, 117.001, 104.298])
    kinds = [layer.kind for layer in layers]
    counts = {kind: kinds.count(kind) for kind in set(kinds)}
    assert counts == {"con": 29, "affine": 29, "relu": 29, "add_prev": 14, "avg_pool": 5, "max_pool": 1, "fc": 1}
    # dlib pads stride-1 convolutions by kernel/2 and stride-2 ones not at all.
    stem = layers[0]
    assert stem.weights is not None and stem.weights.shape == (32, 3, 7, 7) and stem.geometry == (7, 7, 2, 2, 0, 0)


def test_truncated_model_is_rejected(tmp_path: Path) -> None:
    data = default_model_path().read_bytes()
    truncated = tmp_path / "truncated.dat"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError):
        load_layers(truncated)


def test_rejects_wrong_input(net: FaceDescriptorNet) -> None:
    with pytest.raises(ValueError):
        net.describe(np.zeros((1, 160, 160, 3), np.uint8))
    with pytest.raises(ValueError):
        net.describe(np.zeros((1, 150, 150, 3), np.float32))
    assert net.describe(np.zeros((0, 150, 150, 3), np.uint8)).shape == (0, 128)
