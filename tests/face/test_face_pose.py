"""head_pose: exact on synthetic projections, and the documented signs on real photos."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from tests.support.photos import photo_bytes
from worker.face.detect import detect_faces, find_faces
from worker.face.image import decode_image
from worker.face.pose import LANDMARK_IDS, MODEL_POINTS, HeadPose, head_pose

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}
FRAME = (480, 640)


def rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Head rotation in camera axes built with the module's sign conventions (degrees)."""
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    turn = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    nod = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    tilt = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return turn @ nod @ tilt


def projected(rot: np.ndarray, position: tuple[float, float, float] = (0.0, 0.0, 500.0)) -> np.ndarray:
    """68 landmarks whose six pose points are the model seen by a 640×480 camera with focal 640."""
    height, width = FRAME
    camera = np.array([[width, 0, width / 2], [0, width, height / 2], [0, 0, 1]], dtype=np.float64)
    rvec, _ = cv2.Rodrigues(rot)
    points, _ = cv2.projectPoints(MODEL_POINTS, rvec, np.array(position, dtype=np.float64), camera, None)
    landmarks = np.zeros((68, 2))
    landmarks[list(LANDMARK_IDS)] = points.reshape(-1, 2)
    return landmarks


def pose_of(rgb: np.ndarray) -> HeadPose:
    """Pose of the largest face in rgb."""
    return head_pose(find_faces(rgb)[0].points68, rgb.shape[:2])


def warped(rgb: np.ndarray, degrees: float, axis: str) -> np.ndarray:
    """The image as a flat card rotated about its vertical ("y") or horizontal ("x") centre line.

    Positive degrees send the card's right (y) or top (x) edge away from the camera, so it faces
    toward the image's right or upward.
    """
    h, w = rgb.shape[:2]
    focal = float(w)
    s, c = math.sin(math.radians(degrees)), math.cos(math.radians(degrees))
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    moved = []
    for x, y in corners:
        dx, dy = x - w / 2, y - h / 2
        if axis == "y":
            depth = focal + s * dx
            moved.append([w / 2 + focal * c * dx / depth, h / 2 + focal * dy / depth])
        else:
            depth = focal - s * dy
            moved.append([w / 2 + focal * dx / depth, h / 2 + focal * c * dy / depth])
    homography = cv2.getPerspectiveTransform(corners, np.float32(moved))
    return cv2.warpPerspective(rgb, homography, (w, h), borderMode=cv2.BORDER_REPLICATE)


@pytest.fixture(scope="module")
def photos() -> dict[str, np.ndarray]:
    """Frontal (obama) and turned (obama2) photos, decoded once."""
    return {name: decode_image(photo_bytes(name), **LIMITS) for name in ("obama.jpg", "obama2.jpg")}


@pytest.fixture(scope="module")
def obama_face(photos: dict[str, np.ndarray]) -> np.ndarray:
    """A square crop centred on obama.jpg's face, so warps pivot about the face."""
    rgb = photos["obama.jpg"]
    box = detect_faces(rgb)[0]
    cy, cx, r = (box.top + box.bottom) // 2, (box.left + box.right) // 2, box.height
    return np.ascontiguousarray(rgb[cy - r : cy + r, cx - r : cx + r])


@pytest.mark.parametrize(
    "angles",
    [
        (0, 0, 0),
        (20, 0, 0),
        (-30, 0, 0),
        (45, 0, 0),
        (0, 15, 0),
        (0, -12, 0),
        (0, 30, 0),
        (0, 0, 10),
        (18, -10, 5),
        (-25, 20, -8),
        (-40, -15, 0),
    ],
)
def test_synthetic_pose_is_recovered(angles: tuple[float, float, float]) -> None:
    pose = head_pose(projected(rotation(*angles)), FRAME)
    assert (pose.yaw, pose.pitch, pose.roll) == pytest.approx(angles, abs=0.5)


def test_signs_follow_the_docstring() -> None:
    frontal = projected(rotation(0, 0, 0))
    nose_right = projected(rotation(20, 0, 0))
    chin_up = projected(rotation(0, 20, 0))
    # Turning toward the image's right brings the nose tip right of the eye midpoint.
    assert nose_right[30, 0] - nose_right[[36, 45], 0].mean() > frontal[30, 0] - frontal[[36, 45], 0].mean()
    assert head_pose(nose_right, FRAME).yaw > 15
    # Raising the chin brings the nose tip up toward the eyes.
    assert chin_up[30, 1] - chin_up[[36, 45], 1].mean() < frontal[30, 1] - frontal[[36, 45], 1].mean()
    assert head_pose(chin_up, FRAME).pitch > 15
    clockwise = projected(rotation(0, 0, 15))
    assert clockwise[45, 1] > clockwise[36, 1]
    assert head_pose(clockwise, FRAME).roll > 10


def test_face_looking_at_an_off_centre_camera_is_frontal() -> None:
    # A face 200 mm right of the optical axis turned to face the lens: frontal in the photo.
    angle = math.degrees(math.atan2(200, 500))
    pose = head_pose(projected(rotation(-angle, 0, 0), (200.0, 0.0, 500.0)), FRAME)
    assert abs(pose.yaw) < 0.5 and abs(pose.pitch) < 0.5


def test_frontal_photo_is_frontal(photos: dict[str, np.ndarray]) -> None:
    pose = pose_of(photos["obama.jpg"])
    assert abs(pose.yaw) < 8 and abs(pose.pitch) < 8 and abs(pose.roll) < 8


def test_turned_photo_reads_as_turned_toward_the_image_left(photos: dict[str, np.ndarray]) -> None:
    # In obama2.jpg he looks toward the image's left edge.
    assert pose_of(photos["obama2.jpg"]).yaw < -15


@pytest.mark.parametrize("name", ["obama.jpg", "obama2.jpg"])
def test_mirroring_flips_yaw_and_roll(photos: dict[str, np.ndarray], name: str) -> None:
    rgb = photos[name]
    pose = pose_of(rgb)
    mirrored = pose_of(np.ascontiguousarray(rgb[:, ::-1]))
    assert mirrored.yaw == pytest.approx(-pose.yaw, abs=3)
    assert mirrored.roll == pytest.approx(-pose.roll, abs=3)
    assert mirrored.pitch == pytest.approx(pose.pitch, abs=3)
    if abs(pose.yaw) > 10:
        assert math.copysign(1, mirrored.yaw) == -math.copysign(1, pose.yaw)


def test_turning_the_face_about_a_vertical_axis_moves_yaw(obama_face: np.ndarray) -> None:
    yaws = [pose_of(warped(obama_face, degrees, "y")).yaw for degrees in (-40, -20, 0, 20, 40)]
    assert yaws == sorted(yaws)
    assert yaws[-1] - yaws[2] > 6 and yaws[2] - yaws[0] > 6


def test_tilting_the_face_about_a_horizontal_axis_moves_pitch(obama_face: np.ndarray) -> None:
    pitches = [pose_of(warped(obama_face, degrees, "x")).pitch for degrees in (-40, 0, 40)]
    assert pitches[2] - pitches[1] > 5 and pitches[1] - pitches[0] > 5
