"""assess_enrolment_photo on the real photos and on degraded copies of them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.support.photos import photo_bytes
from worker.face.image import decode_image
from worker.face.limits import QualityLimits
from worker.face.quality import QualityReport, assess_enrolment_photo

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}
GOOD = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg")


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    """The photos this module needs, decoded once."""
    names = (*GOOD, "obama_partial_face.jpg", "obama_partial_face2.jpg")
    return {name: decode_image(photo_bytes(name), **LIMITS) for name in names}


@pytest.fixture(scope="module")
def obama(photos: dict[str, np.ndarray]) -> np.ndarray:
    """The frontal reference photo."""
    return photos["obama.jpg"]


@pytest.mark.parametrize("name", GOOD)
def test_real_photos_pass(photos: dict[str, np.ndarray], name: str) -> None:
    report = assess_enrolment_photo(photos[name], QualityLimits())
    assert report.ok, report
    assert report.reasons == ()
    assert report.face is not None
    assert set(report.metrics) >= {"face_px", "sharpness", "brightness", "yaw", "pitch"}
    limits = QualityLimits()
    # Real photos clear the calibrated thresholds with room to spare.
    assert report.metrics["sharpness"] > 4 * limits.min_sharpness
    assert report.metrics["face_px"] > 2 * limits.min_face_px


def test_metrics_are_rounded_floats(obama: np.ndarray) -> None:
    report = assess_enrolment_photo(obama)
    for value in report.metrics.values():
        assert isinstance(value, float)
        assert round(value, 1) == value


@pytest.mark.parametrize("name", ["obama_partial_face.jpg", "obama_partial_face2.jpg"])
def test_partial_face_is_cut_off(photos: dict[str, np.ndarray], name: str) -> None:
    report = assess_enrolment_photo(photos[name])
    assert not report.ok
    assert "face_cut_off" in report.reasons
    assert report.face is not None


def test_cropping_into_the_face_is_cut_off(obama: np.ndarray) -> None:
    report = assess_enrolment_photo(obama)
    assert report.face is not None
    cropped = np.ascontiguousarray(obama[report.face.top + 20 :])
    assert "face_cut_off" in assess_enrolment_photo(cropped).reasons


def test_two_people_stop_at_multiple_faces(photos: dict[str, np.ndarray], obama: np.ndarray) -> None:
    biden = photos["biden.jpg"]
    biden = cv2.resize(biden, (round(biden.shape[1] * obama.shape[0] / biden.shape[0]), obama.shape[0]))
    report = assess_enrolment_photo(np.hstack([obama, biden]))
    assert report == QualityReport(ok=False, reasons=("multiple_faces",), face=None, metrics={})


def test_blank_image_has_no_face() -> None:
    report = assess_enrolment_photo(np.full((600, 480, 3), 200, np.uint8))
    assert report == QualityReport(ok=False, reasons=("no_face",), face=None, metrics={})


def test_tiny_copy_is_found_but_too_small(obama: np.ndarray) -> None:
    # Small photos get an upsampled second search, so the face is found and measured
    # (HOG reports ~72 px at minimum) rather than reported missing.
    tiny = cv2.resize(obama, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    report = assess_enrolment_photo(tiny)
    assert report.reasons == ("face_too_small",)
    assert report.metrics["face_px"] < QualityLimits().min_face_px


def test_blurred_copy_is_too_blurry(obama: np.ndarray) -> None:
    report = assess_enrolment_photo(cv2.GaussianBlur(obama, (21, 21), 0))
    assert report.reasons == ("too_blurry",)


def test_dark_copy_is_too_dark_but_not_called_blurry(obama: np.ndarray) -> None:
    report = assess_enrolment_photo((obama * 0.15).astype(np.uint8))
    assert report.reasons == ("too_dark",)


def test_overexposed_copy_is_too_bright(obama: np.ndarray) -> None:
    report = assess_enrolment_photo(np.clip(obama.astype(np.int32) * 2.2, 0, 255).astype(np.uint8))
    assert report.reasons == ("too_bright",)


def test_turned_head_is_not_frontal_under_a_stricter_limit(photos: dict[str, np.ndarray]) -> None:
    report = assess_enrolment_photo(photos["obama2.jpg"], QualityLimits(max_abs_yaw=15))
    assert report.reasons == ("not_frontal",)


def test_every_failing_reason_is_reported(obama: np.ndarray) -> None:
    dark_blurred = (cv2.GaussianBlur(obama, (31, 31), 0) * 0.15).astype(np.uint8)
    report = assess_enrolment_photo(dark_blurred, QualityLimits(min_face_px=1000))
    assert report.reasons == ("face_too_small", "too_blurry", "too_dark")
