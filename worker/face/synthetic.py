"""Synthetic liveness check-in sessions built from real face photos, for benchmarks and tests.

A session is what the phone uploads: 640×480 JPEG frames, each tagged with the prompt on screen
(None for the neutral frames at the start), the screen colour of the colour-light phase (None
before it) and a capture time. genuine_session animates the photo with 3-D-consistent head turns
and nods (a generic face depth model rotated and projected, the image moved by a piecewise-affine
warp over the landmarks), closed eyes and an opened mouth, so the face mesh really measures the
motion; during the colour phase the face reflects the screen's colour (lit_by). The attack
sessions show the same photo flat (unchanged, shifted and rotated, tilted out of plane, printed
and bent, recoloured), a live face ignoring the prompts, an animated photo without a colour
response, a genuine session replayed under another challenge, and a recording shown on a screen.

A photo is given as its bytes (any format decode_image takes) or a path. Landmarks come from the
face mesh (worker/face/detect.py) in the 68-point layout; no 68-point model is involved.

Frame layout: 2 neutral frames; per challenged action in the challenged order 4 frames (part-way,
the full action twice, back to rest), 0.3-0.5 s apart; then, when the challenge has a light
sequence, 2 frames per colour, 250 and 500 ms into each step.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from worker.face.detect import FaceBox, find_faces
from worker.face.image import decode_image
from worker.face.pose import head_pose

# A photo: its encoded bytes, or the path of a file holding them.
Photo = bytes | str | os.PathLike

FRAME_W, FRAME_H = 640, 480
FACE_PX = 210  # HOG box height of the face in a neutral frame
JPEG_QUALITY = 85
NEUTRAL_FRAMES = 2
# A phone front camera's focal length for a 640-px-wide frame (about a 67° horizontal field of view).
CAMERA_FOCAL = 480.0
# Neutral frames of photos whose face is turned more than this are turned back by this share of it.
_FRONTALISE_ABOVE_DEG = 12.0
_FRONTALISE_SHARE = 0.6
_DECODE_LIMITS = {"max_bytes": 50_000_000, "max_pixels": 40_000_000}

# Full motion of the genuine actions. Turns of 22° and nods of 16° measure about 18-21° of yaw and
# 13-16° of pitch with head_pose on these photos (the 3-D model below has a shallower face than
# pose.py's, and the landmark predictor pulls toward a frontal shape).
TURN_DEG = 25.0
NOD_DEG = 20.0
# Share of the full motion in each frame of an action's prompt: part-way, held, back to rest.
ACTION_STEPS = (0.5, 1.0, 1.0, 0.0)
# The colour phase: frames captured this far into each step (the app skips the first 200 ms),
# and the screen light a face reflects (lit_by) at the centre of the face, as a share of the
# screen's colour times the skin's own reflectance.
COLOUR_CAPTURE_OFFSETS_S = (0.25, 0.5)
DEFAULT_STEP_MS = 700
LIGHT_STRENGTH = 0.35
# A real phone's frame shows the screen colour up to this late (camera pipeline latency).
MAX_CAPTURE_LAG_S = 0.3
# A shut eye's cover reaches this share of the way from the upper lid to the brow; the lash line
# is this share of the eye's width thick.
_LID_REACH = 0.9
_LASH_WIDTH = 0.12
# Tilt of the flat photo for turn and nod prompts in tilted_photo_session.
TILT_TURN_DEG = 50.0
TILT_NOD_DEG = 35.0


@dataclass(frozen=True)
class SyntheticFrame:
    """One uploaded frame: JPEG bytes, the prompt shown (None = neutral), capture time in s, screen colour."""

    jpeg: bytes
    action: str | None
    captured_at: float
    colour: str | None = None


@dataclass(frozen=True)
class Light:
    """A challenge's colour-light sequence: screen colours ("#rrggbb") in order, each shown for step_ms."""

    colours: tuple[str, ...]
    step_ms: int = DEFAULT_STEP_MS

    @classmethod
    def of(cls, light: Light | dict | None) -> Light | None:
        """From a challenge's `light` object as the API sends it (or None for no colour phase)."""
        if light is None or isinstance(light, Light):
            return light
        return cls(tuple(light["colours"]), int(light["step_ms"]))


# --------------------------------------------------------------------------------------------
# A generic face depth model: millimetres behind the nose tip for each point of the 68-point layout, made by
# hand from usual adult proportions and matching pose.py's six points where they overlap.


def _depths() -> np.ndarray:
    z = np.zeros(68)
    for i in range(17):  # jaw line: the chin 36 mm behind the nose tip, the ends near the ears ~88 mm
        t = abs(i - 8) / 8.0
        z[i] = 36.0 + 52.0 * t**1.6
    for i, j in zip(range(17, 22), range(26, 21, -1), strict=True):  # brows, outer end deepest
        t = (21 - i) / 4.0
        z[i] = z[j] = 24.0 + 20.0 * t**1.5
    z[27:31] = (24.0, 16.0, 8.0, 0.0)  # nose bridge down to the tip
    z[31:36] = (19.0, 14.0, 11.0, 14.0, 19.0)  # nostrils
    for corners, lids in (((36, 39), (37, 38, 40, 41)), ((45, 42), (43, 44, 46, 47))):
        z[corners[0]], z[corners[1]] = 43.0, 31.0  # outer and inner eye corners
        z[list(lids)] = 34.0
    z[[48, 54]] = 34.0  # mouth corners
    z[[49, 53, 55, 59]] = 28.0
    z[[50, 52, 56, 58]] = 24.0
    z[[51, 57]] = 22.0
    z[[60, 64]] = 32.0
    z[[61, 63, 65, 67]] = 27.0
    z[[62, 66]] = 25.0
    return z


DEPTHS_MM = _depths()
# Head points beyond the landmarks (forehead, crown, sides of the head) are placed from these.
_FOREHEAD_DEPTH_MM = 30.0
_CROWN_DEPTH_MM = 70.0
_HEAD_SIDE_DEPTH_MM = 100.0
# Turns pivot about the neck, nods about the top of the spine, this far behind the nose tip.
_TURN_PIVOT_MM = 95.0
_NOD_PIVOT_MM = 90.0


# --------------------------------------------------------------------------------------------
# Source photos and neutral frames


@dataclass(frozen=True)
class _Base:
    rgb: np.ndarray  # 640×480 neutral frame
    landmarks: np.ndarray  # its 68 landmarks


def _points(rgb: np.ndarray) -> np.ndarray:
    faces = find_faces(rgb)
    if not faces:
        raise ValueError("no face found in the photo")
    return faces[0].points68


def _photo_bytes(photo: Photo) -> bytes:
    return photo if isinstance(photo, bytes) else Path(photo).read_bytes()


def _base(photo: Photo) -> _Base:
    return _base_of(_photo_bytes(photo))


@lru_cache(maxsize=8)
def _base_of(data: bytes) -> _Base:
    """The photo cropped and scaled so the face is FACE_PX tall, centred in a 640×480 frame."""
    rgb = decode_image(data, **_DECODE_LIMITS)
    faces = find_faces(rgb)
    if not faces:
        raise ValueError("no face found in the photo")
    box = faces[0].box
    scale = FACE_PX / box.height
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    matrix = np.float64([[scale, 0, FRAME_W / 2 - scale * cx], [0, scale, FRAME_H / 2 + 10 - scale * cy]])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    frame = cv2.warpAffine(rgb, matrix, (FRAME_W, FRAME_H), flags=interpolation, borderMode=cv2.BORDER_REPLICATE)
    base = _Base(rgb=frame, landmarks=_points(frame))
    # Someone checking in looks at the phone: a photo of a face turned well aside (obama2.jpg, about
    # -20°) is first turned most of the way to the camera, so a further turn stays within what the
    # detector and landmark predictor handle.
    yaw = head_pose(base.landmarks, frame.shape[:2]).yaw
    if abs(yaw) > _FRONTALISE_ABOVE_DEG:
        frame = turned(base, -_FRONTALISE_SHARE * yaw, 0.0)
        base = _Base(rgb=frame, landmarks=_points(frame))
    base.rgb.setflags(write=False)
    return base


# --------------------------------------------------------------------------------------------
# Piecewise-affine warping


def _border_anchors() -> np.ndarray:
    xs = np.linspace(0, FRAME_W - 1, 9)
    ys = np.linspace(0, FRAME_H - 1, 7)
    top = np.stack([xs, np.zeros_like(xs)], 1)
    bottom = np.stack([xs, np.full_like(xs, FRAME_H - 1)], 1)
    left = np.stack([np.zeros_like(ys[1:-1]), ys[1:-1]], 1)
    right = np.stack([np.full_like(ys[1:-1], FRAME_W - 1), ys[1:-1]], 1)
    return np.concatenate([top, bottom, left, right])


def _triangles(points: np.ndarray) -> np.ndarray:
    """Delaunay triangles over points (all inside the frame) as an (n, 3) array of indices."""
    subdiv = cv2.Subdiv2D((-1, -1, FRAME_W + 2, FRAME_H + 2))
    index = {}
    for i, (x, y) in enumerate(points):
        key = (round(float(x), 3), round(float(y), 3))
        if key in index:
            continue
        index[key] = i
        subdiv.insert((float(x), float(y)))
    keys = np.array(list(index.keys()))
    values = np.array(list(index.values()))
    out = []
    for tri in subdiv.getTriangleList().reshape(-1, 3, 2):
        ids = []
        for x, y in tri:
            nearest = int(np.argmin(np.abs(keys[:, 0] - x) + np.abs(keys[:, 1] - y)))
            if abs(keys[nearest, 0] - x) + abs(keys[nearest, 1] - y) > 0.01:
                break
            ids.append(int(values[nearest]))
        if len(ids) == 3:
            out.append(ids)
    return np.array(out, dtype=np.int64)


def _piecewise_warp(rgb: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Move the image so each src point lands on its dst point, affine within each triangle."""
    src = np.clip(src, 0, [FRAME_W - 1, FRAME_H - 1])
    dst = np.clip(dst, 0, [FRAME_W - 1, FRAME_H - 1])
    triangles = _triangles(src)
    labels = np.zeros((FRAME_H, FRAME_W), dtype=np.int32)
    inverse = np.zeros((len(triangles) + 1, 2, 3), dtype=np.float64)
    inverse[0] = [[1, 0, 0], [0, 1, 0]]  # pixels outside every triangle stay put
    for k, tri in enumerate(triangles, start=1):
        d = dst[tri].astype(np.float32)
        s = src[tri].astype(np.float32)
        area = (d[1, 0] - d[0, 0]) * (d[2, 1] - d[0, 1]) - (d[2, 0] - d[0, 0]) * (d[1, 1] - d[0, 1])
        if abs(area) < 1e-3:
            continue
        inverse[k] = cv2.getAffineTransform(d, s)
        cv2.fillConvexPoly(labels, np.round(d * 16).astype(np.int32), k, lineType=cv2.LINE_8, shift=4)
    ys, xs = np.mgrid[0:FRAME_H, 0:FRAME_W].astype(np.float32)
    a = inverse[labels].astype(np.float32)
    map_x = a[..., 0, 0] * xs + a[..., 0, 1] * ys + a[..., 0, 2]
    map_y = a[..., 1, 0] * xs + a[..., 1, 1] * ys + a[..., 1, 2]
    return cv2.remap(rgb, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# --------------------------------------------------------------------------------------------
# Genuine motions


def _head_points(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Extra points on the head beyond the landmarks (forehead, crown, head sides) and their depths."""
    brow = lm[17:27]
    eye_line = (lm[36:48, 1]).mean()
    face_h = lm[8, 1] - eye_line
    up = np.array([0.0, -1.0])
    forehead = brow + up * 0.45 * face_h
    crown = brow[[0, 3, 6, 9]] + up * 1.0 * face_h
    centre_x = (lm[0, 0] + lm[16, 0]) / 2
    half_w = (lm[16, 0] - lm[0, 0]) / 2
    sides = np.array(
        [
            [centre_x - 1.12 * half_w, eye_line - 0.3 * face_h],
            [centre_x + 1.12 * half_w, eye_line - 0.3 * face_h],
            [centre_x - 1.05 * half_w, eye_line + 0.25 * face_h],
            [centre_x + 1.05 * half_w, eye_line + 0.25 * face_h],
        ]
    )
    points = np.concatenate([forehead, crown, sides])
    depths = np.concatenate(
        [
            np.full(len(forehead), _FOREHEAD_DEPTH_MM),
            np.full(len(crown), _CROWN_DEPTH_MM),
            np.full(4, _HEAD_SIDE_DEPTH_MM),
        ]
    )
    return points, depths


def _static_ring(lm: np.ndarray, factor: float) -> np.ndarray:
    """Points on an ellipse around the face that stay put (background, shoulders)."""
    centre = lm[[0, 16, 8, 27]].mean(axis=0)
    half_w = (lm[16, 0] - lm[0, 0]) / 2
    half_h = lm[8, 1] - lm[27, 1]
    angles = np.linspace(0, 2 * math.pi, 16, endpoint=False)
    return centre + np.stack([factor * 1.25 * half_w * np.cos(angles), factor * half_h * np.sin(angles)], 1)


def _mm_per_px(lm: np.ndarray) -> float:
    """Millimetres per pixel at the face, from the eye span and the eye-to-chin height (whichever is larger)."""
    span = float(np.linalg.norm(lm[45] - lm[36])) / 91.2
    height = float(lm[8, 1] - lm[[36, 45], 1].mean()) / 114.9
    return 1.0 / max(span, height)


def _rotated(lm: np.ndarray, yaw_deg: float, pitch_deg: float) -> tuple[np.ndarray, np.ndarray]:
    """The landmarks and head points, and where a rotation of the head by yaw/pitch sends them.

    Signs as in worker/face/pose.py: yaw > 0 sends the nose toward the image's right, pitch < 0 nods down.
    """
    extra, extra_depth = _head_points(lm)
    points = np.concatenate([lm, extra])
    depth_mm = np.concatenate([DEPTHS_MM, extra_depth])
    mm = _mm_per_px(lm)
    focal = CAMERA_FOCAL
    distance = focal * mm  # nose tip to camera, in mm, so that one pixel is `mm` millimetres there
    cx, cy = FRAME_W / 2, FRAME_H / 2
    z = distance + depth_mm
    x = (points[:, 0] - cx) * z / focal
    y = (points[:, 1] - cy) * z / focal
    xyz = np.stack([x, y, z], 1)

    nose = xyz[30]
    if yaw_deg:
        pivot = np.array([(xyz[0, 0] + xyz[16, 0]) / 2, 0.0, nose[2] + _TURN_PIVOT_MM])
        t = math.radians(yaw_deg)
        rot = np.array([[math.cos(t), 0, -math.sin(t)], [0, 1, 0], [math.sin(t), 0, math.cos(t)]])
        xyz = (xyz - pivot) @ rot.T + pivot
    if pitch_deg:
        ear_y = (xyz[1, 1] + xyz[15, 1]) / 2
        pivot = np.array([0.0, ear_y, nose[2] + _NOD_PIVOT_MM])
        t = math.radians(pitch_deg)
        rot = np.array([[1, 0, 0], [0, math.cos(t), math.sin(t)], [0, -math.sin(t), math.cos(t)]])
        xyz = (xyz - pivot) @ rot.T + pivot
    moved = np.stack([cx + focal * xyz[:, 0] / xyz[:, 2], cy + focal * xyz[:, 1] / xyz[:, 2]], 1)
    return points, moved


def turned(base: _Base, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """The neutral frame with the head rotated in 3-D by yaw/pitch degrees."""
    src, dst = _rotated(base.landmarks, yaw_deg, pitch_deg)
    ring = _static_ring(base.landmarks, 1.9)
    anchors = _border_anchors()
    return _piecewise_warp(base.rgb, np.concatenate([src, ring, anchors]), np.concatenate([dst, ring, anchors]))


def eyes_closed(base: _Base, amount: float) -> np.ndarray:
    """The neutral frame with the eyes shut (amount 1) or nearly (amount < 1).

    Each eye, from the lower lid up to nearly the brow, is covered with the skin from below it
    (toned like the skin beside and below the eye), and a thick lash line is drawn along the lower
    lid; at amount < 1 the cover stops lower. The landmark predictor follows the lids of a shut eye
    reluctantly: a thin lash line or a cover that leaves the lid crease's shadow lets it place the
    upper lid on the crease (EAR ratios up to 0.95 on obama2.jpg); this form measures 0.35-0.6.
    """
    lm = base.landmarks
    out = base.rgb.astype(np.float32)
    height, width = out.shape[:2]
    for eye_ids, brow_ids in ((range(36, 42), (17, 19, 20, 21)), (range(42, 48), (22, 23, 24, 26))):
        eye = lm[list(eye_ids)]
        brow = lm[list(brow_ids)]
        eye_w = float(np.linalg.norm(eye[3] - eye[0]))
        lower = np.array([eye[0], eye[5], eye[4], eye[3]]) + np.array([0.0, 0.06 * eye_w])
        corners = np.array([eye[0] - [0.12 * eye_w, 0], eye[3] + [0.12 * eye_w, 0]])
        reach = _LID_REACH * amount
        upper = np.array([eye[2], eye[1]]) + reach * (brow[[2, 1]] - np.array([eye[2], eye[1]]))
        outline = np.array([corners[0], *lower[1:3], corners[1], *upper])
        mask = np.zeros((height, width), dtype=np.uint8)
        cv2.fillPoly(mask, [np.round(outline * 4).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=2)
        blur = max(3, int(eye_w * 0.2) | 1)
        soft = cv2.GaussianBlur(mask, (blur, blur), 0).astype(np.float32)[..., None] / 255.0
        cover_h = float(lower[:, 1].max() - upper[:, 1].min())
        shift = np.float32([[1, 0, 0], [0, 1, cover_h]])
        skin = cv2.warpAffine(
            base.rgb,
            shift,
            (width, height),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_REPLICATE,
        ).astype(np.float32)
        # Tone the cover like the skin around it: cheek skin is lighter than an eye socket, and a
        # light almond framed by shadow reads as an open eye, a dark one as an iris.
        ring = cv2.dilate(mask, np.ones((blur * 2 + 1, blur * 2 + 1), np.uint8)) > 0
        ring &= mask == 0
        ring[: int(eye[:, 1].mean())] = False
        inside = mask > 127
        skin *= np.median(base.rgb[ring], axis=0) / np.maximum(np.median(skin[inside], axis=0), 1.0)
        out = out * (1 - soft) + skin * soft
        # The lash line where the lids meet.
        lash = lower - np.array([0.0, 0.1 * eye_w])
        line = np.zeros((height, width), dtype=np.uint8)
        thickness = max(1, round(eye_w * _LASH_WIDTH))
        cv2.polylines(line, [np.round(lash * 4).astype(np.int32)], False, 255, thickness, cv2.LINE_AA, 2)
        line_soft = cv2.GaussianBlur(line, (3, 3), 0).astype(np.float32)[..., None] / 255.0 * 0.7
        out = out * (1 - line_soft) + np.float32([30, 22, 20]) * line_soft
    return np.clip(out, 0, 255).astype(np.uint8)


def mouth_opened(base: _Base, amount: float) -> np.ndarray:
    """The neutral frame with the jaw dropped and the mouth open (amount 1 = wide open)."""
    lm = base.landmarks
    width = float(np.linalg.norm(lm[54] - lm[48]))
    drop = amount * 0.3 * width
    dst = lm.copy()
    weights = {5: 0.35, 6: 0.7, 7: 0.9, 8: 1.0, 9: 0.9, 10: 0.7, 11: 0.35, 4: 0.1, 12: 0.1}
    weights |= {55: 1.0, 56: 1.0, 57: 1.0, 58: 1.0, 59: 1.0, 65: 1.0, 66: 1.0, 67: 1.0}
    weights |= {48: 0.3, 54: 0.3, 60: 0.3, 64: 0.3}
    for i, w in weights.items():
        dst[i, 1] += w * drop
    # The mouth narrows a little as it opens.
    centre_x = (lm[48, 0] + lm[54, 0]) / 2
    for i in (48, 54, 60, 64):
        dst[i, 0] = centre_x + 0.92 * (lm[i, 0] - centre_x)
    ring = _static_ring(lm, 1.6)
    anchors = _border_anchors()
    out = _piecewise_warp(base.rgb, np.concatenate([lm, ring, anchors]), np.concatenate([dst, ring, anchors]))
    # The inside of the mouth: the stretched lips and teeth darkened toward a shadowed throat, its
    # corners halfway between the inner and the outer lip corners.
    cavity = dst[60:68].copy()
    cavity[0] = (dst[60] + dst[48]) / 2
    cavity[4] = (dst[64] + dst[54]) / 2
    inner = np.round(cavity * 4).astype(np.int32)
    mask = np.zeros(out.shape[:2], dtype=np.uint8)
    cv2.fillPoly(mask, [inner], 255, lineType=cv2.LINE_AA, shift=2)
    mask = cv2.GaussianBlur(mask, (5, 5), 0).astype(np.float32)[..., None] / 255.0
    shadow = out.astype(np.float32) * 0.12 + np.float32([22, 8, 10])
    return (out * (1 - mask) + shadow * mask).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# Camera effects and encoding


def _camera(rgb: np.ndarray, rng: np.random.Generator, *, shake: float = 2.0) -> np.ndarray:
    """Hand shake (a small shift and rotation), exposure variation and sensor noise."""
    angle = float(rng.uniform(-1.0, 1.0)) * shake / 2
    dx, dy = rng.uniform(-shake, shake, size=2)
    matrix = cv2.getRotationMatrix2D((FRAME_W / 2, FRAME_H / 2), angle, 1.0)
    matrix[:, 2] += (dx, dy)
    out = cv2.warpAffine(rgb, matrix, (FRAME_W, FRAME_H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    gain = float(rng.uniform(0.93, 1.07))
    noise = rng.normal(0.0, 2.0, size=out.shape)
    return np.clip(out.astype(np.float64) * gain + noise, 0, 255).astype(np.uint8)


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return data.tobytes()


def _timeline(actions: list[str], seed: int) -> tuple[list[tuple[str | None, float]], list[float]]:
    """The prompt of every frame with its share of the full action, and the capture times."""
    prompts: list[tuple[str | None, float]] = [(None, 0.0)] * NEUTRAL_FRAMES
    for action in actions:
        prompts.extend((action, step) for step in ACTION_STEPS)
    rng = np.random.default_rng([seed, 7])
    gaps = rng.uniform(0.3, 0.5, size=len(prompts))
    times = list(np.round(np.cumsum(gaps) - gaps[0] + 0.05, 3))
    return prompts, [float(t) for t in times]


def _colour_times(light: Light, after: float) -> list[tuple[str, float, float]]:
    """(colour tagged, capture time, step start) of the colour phase's frames, starting after `after`."""
    start = after + 0.5
    step = light.step_ms / 1000.0
    return [
        (colour, round(start + k * step + offset, 3), start + k * step)
        for k, colour in enumerate(light.colours)
        for offset in COLOUR_CAPTURE_OFFSETS_S
    ]


def _shown(light: Light, at: float, phase_start: float, lag: float) -> str | None:
    """The colour on the screen when the light reaching the camera at `at` left it (None: the normal UI)."""
    k = int(np.floor((at - lag - phase_start) / (light.step_ms / 1000.0)))
    return light.colours[k] if 0 <= k < len(light.colours) else None


def _rgb_of(colour: str) -> np.ndarray:
    value = colour.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float32) / 255.0


def _box_of(landmarks: np.ndarray) -> FaceBox:
    left, top = landmarks.min(axis=0)
    right, bottom = landmarks.max(axis=0)
    return FaceBox(top=round(top), right=round(right), bottom=round(bottom), left=round(left))


def lit_by(
    frame_rgb: np.ndarray, colour_hex: str, face_box: FaceBox | None = None, *, strength: float = LIGHT_STRENGTH
) -> np.ndarray:
    """The frame with a face-shaped reflection of a screen of this colour held close to the face.

    A phone screen a forearm away lights what faces it: strongly on the front of the face (nose,
    cheeks, forehead), less where the face curves away, hardly at all the background metres
    behind. The face is modelled as a half ellipsoid over its box (brows to chin, stretched up to
    the hairline); the light reflected is the screen's colour times the skin's own colour.
    """
    if face_box is None:
        faces = find_faces(frame_rgb)
        if not faces:
            raise ValueError("no face to light")
        face_box = faces[0].box
    height, width = frame_rgb.shape[:2]
    cx = (face_box.left + face_box.right) / 2
    cy = (face_box.top + face_box.bottom) / 2 - 0.1 * face_box.height
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    u = (xs - cx) / (0.62 * face_box.width)
    v = (ys - cy) / (0.85 * face_box.height)
    facing = np.sqrt(np.clip(1.0 - u * u - v * v, 0.0, 1.0)) ** 1.5
    weight = np.maximum(facing, 0.03)[..., None]
    rgb = frame_rgb.astype(np.float32)
    out = rgb + strength * 255.0 * weight * _rgb_of(colour_hex) * (0.35 + 0.65 * rgb / 255.0)
    return np.clip(out, 0, 255).astype(np.uint8)


def _flat_lit(frame_rgb: np.ndarray, colour_hex: str, strength: float, shading: np.ndarray | None = None) -> np.ndarray:
    """A screen's colour reflected evenly by whatever fills the frame (a print held up, a monitor's glass)."""
    rgb = frame_rgb.astype(np.float32)
    weight = 1.0 if shading is None else shading[..., None]
    out = rgb + strength * 255.0 * weight * _rgb_of(colour_hex) * (0.35 + 0.65 * rgb / 255.0)
    return np.clip(out, 0, 255).astype(np.uint8)


def _genuine_rgb(base: _Base, action: str | None, amount: float, rng: np.random.Generator) -> np.ndarray:
    wobble = float(rng.uniform(-1.5, 1.5))
    if action is None or amount == 0:
        return turned(base, wobble * 0.6, 0.0) if abs(wobble) > 0.3 else base.rgb
    if action in ("turn_left", "turn_right"):
        sign = 1.0 if action == "turn_left" else -1.0  # turning to one's own left sends the nose to the image's right
        return turned(base, sign * amount * (TURN_DEG + wobble), 0.0)
    if action == "nod":
        return turned(base, 0.0, -amount * (NOD_DEG + wobble))
    if action == "blink":
        return eyes_closed(base, 0.85 if amount < 1 else 1.0)
    if action == "open_mouth":
        return mouth_opened(base, amount)
    raise ValueError(f"unknown action {action!r}")


def _light_phase(
    base: _Base, light: Light | None, after: float, rng: np.random.Generator, *, respond: bool = True
) -> list[SyntheticFrame]:
    """The colour phase of a live face sitting still: each frame lit by the colour the screen showed (with lag)."""
    if light is None:
        return []
    lag = float(rng.uniform(0.0, MAX_CAPTURE_LAG_S))
    box = _box_of(base.landmarks)
    frames = []
    times = _colour_times(light, after)
    phase_start = times[0][2]
    for tag, at, _ in times:
        rgb = _genuine_rgb(base, None, 0.0, rng)
        shown = _shown(light, at, phase_start, lag)
        if respond and shown is not None:
            rgb = lit_by(rgb, shown, box)
        frames.append(SyntheticFrame(_jpeg(_camera(rgb, rng)), None, at, tag))
    return frames


# --------------------------------------------------------------------------------------------
# Sessions


def genuine_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A live person: neutral frames, each action performed while it is prompted, then the colour phase."""
    base = _base(photo)
    prompts, times = _timeline(actions, seed)
    rng = np.random.default_rng([seed, 1])
    frames = []
    for (action, amount), at in zip(prompts, times, strict=True):
        rgb = _genuine_rgb(base, action, amount, rng)
        frames.append(SyntheticFrame(_jpeg(_camera(rgb, rng)), action, at))
    return frames + _light_phase(base, Light.of(light), times[-1], rng)


def animated_photo_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A photo animated by an app (blinks, turns, mouth) fed to the camera: it reflects no screen light."""
    base = _base(photo)
    frames = genuine_session(photo, actions, seed=seed)
    rng = np.random.default_rng([seed, 11])
    return frames + _light_phase(base, Light.of(light), frames[-1].captured_at, rng, respond=False)


def replayed_session(
    photo: Photo, actions: list[str], *, seed: int = 0, recorded: Light | dict, light: Light | dict
) -> list[SyntheticFrame]:
    """A genuine session recorded under one challenge's colours, sent with another challenge's colour tags."""
    old, new = Light.of(recorded), Light.of(light)
    frames = genuine_session(photo, actions, seed=seed, light=old)
    relabel = dict(zip(old.colours, new.colours, strict=False))
    return [replace(f, colour=relabel.get(f.colour, new.colours[-1])) if f.colour else f for f in frames]


def screen_recording_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A recording of the person played on a monitor: the phone's screen colour comes back evenly off the glass."""
    light = Light.of(light)
    frames = genuine_session(photo, actions, seed=seed)
    if light is None:
        return frames
    base = _base(photo)
    rng = np.random.default_rng([seed, 12])
    for tag, at, _ in _colour_times(light, frames[-1].captured_at):
        # The glass reflects the phone's screen the same whatever the monitor shows behind it.
        rgb = _genuine_rgb(base, None, 0.0, rng).astype(np.float32) + 0.2 * 255.0 * _rgb_of(tag)
        frames.append(SyntheticFrame(_jpeg(_camera(np.clip(rgb, 0, 255).astype(np.uint8), rng)), None, at, tag))
    return frames


def out_of_order_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A live person doing the challenged actions in reverse order while the app prompts them in order."""
    performed = list(reversed(actions))
    return [
        replace(f, action=actions[performed.index(f.action)] if f.action else None)
        for f in genuine_session(photo, performed, seed=seed, light=light)
    ]


def prompts_ignored_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A live person who ignores the prompts: natural blinks (never two frames running) and small head movements."""
    base = _base(photo)
    prompts, times = _timeline(actions, seed)
    rng = np.random.default_rng([seed, 4])
    frames = []
    blinked = False
    for (action, _), at in zip(prompts, times, strict=True):
        if not blinked and rng.uniform() < 0.25:
            rgb = eyes_closed(base, 1.0)
            blinked = True
        else:
            rgb = turned(base, float(rng.uniform(-5, 5)), float(rng.uniform(-4, 4)))
            blinked = False
        frames.append(SyntheticFrame(_jpeg(_camera(rgb, rng)), action, at))
    return frames + _light_phase(base, Light.of(light), times[-1], rng)


def still_photo_session(photo: Photo, actions: list[str], *, light: Light | dict | None = None) -> list[SyntheticFrame]:
    """One photo held still: the very same image for every frame, tagged with each prompt and colour."""
    light = Light.of(light)
    prompts, times = _timeline(actions, 0)
    jpeg = _jpeg(_base(photo).rgb)
    frames = [SyntheticFrame(jpeg, action, at) for (action, _), at in zip(prompts, times, strict=True)]
    if light is not None:
        frames += [SyntheticFrame(jpeg, None, at, tag) for tag, at, _ in _colour_times(light, times[-1])]
    return frames


def tagged_still_session(photo: Photo, actions: list[str], *, neutral: int = 8) -> list[SyntheticFrame]:
    """The same image sent `neutral` times untagged, then once per prompted action, 0.4 s apart (issue 12 point 1)."""
    jpeg = _jpeg(_base(photo).rgb)
    tags: list[str | None] = [None] * neutral + list(actions)
    return [SyntheticFrame(jpeg, tag, round(0.4 * i, 3)) for i, tag in enumerate(tags)]


def _print_phase(
    light: Light | None, after: float, render, rng: np.random.Generator, strength: float = 0.3
) -> list[SyntheticFrame]:
    """The colour phase in front of a print: the whole sheet reflects the colour evenly."""
    if light is None:
        return []
    frames = []
    for tag, at, _ in _colour_times(light, after):
        rgb, shading = render()
        frames.append(SyntheticFrame(_jpeg(_camera(_flat_lit(rgb, tag, strength, shading), rng)), None, at, tag))
    return frames


def jittered_photo_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A photo waved in front of the camera in its own plane: shifted, scaled and rotated per frame."""
    base = _base(photo)
    prompts, times = _timeline(actions, seed)
    rng = np.random.default_rng([seed, 2])

    def moved(strength: float, scaled: bool) -> np.ndarray:
        angle = float(rng.uniform(-12, 12)) * strength
        scale = float(rng.uniform(0.88, 1.12)) if scaled else 1.0
        dx, dy = rng.uniform(-25, 25, size=2) * strength
        matrix = cv2.getRotationMatrix2D((FRAME_W / 2, FRAME_H / 2), angle, scale)
        matrix[:, 2] += (dx, dy)
        return cv2.warpAffine(base.rgb, matrix, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REPLICATE)

    frames = []
    for (action, amount), at in zip(prompts, times, strict=True):
        rgb = moved(1.0 if action is not None and amount > 0 else 0.3, action is not None)
        frames.append(SyntheticFrame(_jpeg(_camera(rgb, rng, shake=1.0)), action, at))
    return frames + _print_phase(Light.of(light), times[-1], lambda: (moved(0.3, False), None), rng)


def recoloured_photo_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A jittered photo whose colours change from frame to frame (a print under flickering, tinted light)."""
    rng = np.random.default_rng([seed, 5])
    out = []
    for frame in jittered_photo_session(photo, actions, seed=seed, light=light):
        rgb = decode_image(frame.jpeg, **_DECODE_LIMITS).astype(np.float32)
        gains = rng.uniform(0.8, 1.2, size=3).astype(np.float32)
        gamma = float(rng.uniform(0.8, 1.25))
        rgb = 255.0 * (np.clip(rgb * gains, 0, 255) / 255.0) ** gamma
        out.append(replace(frame, jpeg=_jpeg(rgb.astype(np.uint8))))
    return out


def tilt_homography(yaw_deg: float, pitch_deg: float, pivot: tuple[float, float]) -> np.ndarray:
    """The homography of the frame as a flat card rotated out of plane about pivot (pixels).

    The card starts square to the camera at the distance where it shows at its own size. Signs
    follow worker/face/pose.py for what is drawn on the card: yaw > 0 swings its right edge away from
    the camera so it faces the image's right, pitch < 0 swings its top edge toward the camera so it
    faces down.
    """
    focal = CAMERA_FOCAL
    cx, cy = FRAME_W / 2, FRAME_H / 2
    corners = np.float64([[0, 0], [FRAME_W, 0], [FRAME_W, FRAME_H], [0, FRAME_H]])
    px, py = pivot
    a, b = -math.radians(yaw_deg), -math.radians(pitch_deg)
    turn = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    tip = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rot = turn @ tip
    # Card points in camera space (mm = px at depth focal), pivot as origin of the rotation.
    xyz = np.stack([corners[:, 0] - cx, corners[:, 1] - cy, np.full(4, focal)], 1)
    centre = np.array([px - cx, py - cy, focal])
    moved = (xyz - centre) @ rot.T + centre
    projected = np.stack([cx + focal * moved[:, 0] / moved[:, 2], cy + focal * moved[:, 1] / moved[:, 2]], 1)
    return cv2.getPerspectiveTransform(corners.astype(np.float32), projected.astype(np.float32))


def tilted(base: _Base, yaw_deg: float, pitch_deg: float) -> np.ndarray:
    """The neutral frame as a flat photo rotated out of plane about the face's centre."""
    pivot = tuple(base.landmarks[[36, 45, 48, 54]].mean(axis=0))
    homography = tilt_homography(yaw_deg, pitch_deg, pivot)
    return cv2.warpPerspective(base.rgb, homography, (FRAME_W, FRAME_H), borderMode=cv2.BORDER_REPLICATE)


def tilted_photo_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A flat photo held up to the camera and tilted out of plane while a turn or nod is prompted.

    Tilting swings the face's landmarks as a head turn or nod would on a pose estimate, but every
    point moves by one homography: there is no depth.
    """
    base = _base(photo)
    prompts, times = _timeline(actions, seed)
    rng = np.random.default_rng([seed, 3])
    frames = []
    for (action, amount), at in zip(prompts, times, strict=True):
        wobble = float(rng.uniform(-3, 3))
        if action in ("turn_left", "turn_right"):
            sign = 1.0 if action == "turn_left" else -1.0  # as a head turning to its own left would
            rgb = tilted(base, sign * amount * (TILT_TURN_DEG + wobble), 0.0)
        elif action == "nod":
            rgb = tilted(base, 0.0, -amount * (TILT_NOD_DEG + wobble))
        else:
            rgb = tilted(base, wobble, wobble / 2)
        frames.append(SyntheticFrame(_jpeg(_camera(rgb, rng)), action, at))
    render = lambda: (tilted(base, float(rng.uniform(-3, 3)), 0.0), None)  # noqa: E731
    return frames + _print_phase(Light.of(light), times[-1], render, rng)


def bent(rgb: np.ndarray, bend: float, centre_x: float) -> tuple[np.ndarray, np.ndarray]:
    """A print curved around a vertical axis through centre_x (bend 0 = flat, 1 = a half cylinder), and its shading.

    The sheet's sides turn away from the camera: they are squeezed toward the axis and, lit from
    the front, darker.
    """
    height, width = rgb.shape[:2]
    if bend < 1e-3:
        return rgb, np.ones((height, width), np.float32)
    radius = width / (math.pi * bend)
    xs = np.arange(width, dtype=np.float32)
    offset = np.clip((xs - centre_x) / radius, -1.0, 1.0)
    source_x = centre_x + radius * np.arcsin(offset)
    map_x = np.tile(source_x, (height, 1)).astype(np.float32)
    map_y = np.repeat(np.arange(height, dtype=np.float32)[:, None], width, axis=1)
    out = cv2.remap(rgb, map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shading = np.tile(np.sqrt(np.clip(1.0 - offset**2, 0.0, 1.0)), (height, 1)).astype(np.float32)
    out = (out.astype(np.float32) * (0.55 + 0.45 * shading[..., None])).astype(np.uint8)
    return out, shading


def printed_photo_session(
    photo: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """A printed photo held by hand: rotated, tilted in perspective and bent over time.

    Every frame rotates the sheet in its plane and tilts it (most during turn and nod prompts),
    and bends it by a varying amount; now and then (never two frames running) the bend makes the
    eyes look closed, as it does on real prints.
    """
    base = _base(photo)
    prompts, times = _timeline(actions, seed)
    rng = np.random.default_rng([seed, 6])
    pivot = tuple(base.landmarks[[36, 45, 48, 54]].mean(axis=0))
    centre_x = float(pivot[0])
    closed = eyes_closed(base, 1.0)

    def render(action: str | None, amount: float, squint: bool) -> tuple[np.ndarray, np.ndarray]:
        yaw = float(rng.uniform(-8, 8))
        pitch = float(rng.uniform(-6, 6))
        if action in ("turn_left", "turn_right"):
            yaw += (1.0 if action == "turn_left" else -1.0) * amount * 35.0
        elif action == "nod":
            pitch -= amount * 28.0
        roll = float(rng.uniform(-10, 10))
        sheet, shading = bent(closed if squint else base.rgb, float(rng.uniform(0.0, 0.6)), centre_x)
        matrix = np.vstack([cv2.getRotationMatrix2D(pivot, roll, 1.0), [0, 0, 1]])
        homography = tilt_homography(yaw, pitch, pivot) @ matrix
        size = (FRAME_W, FRAME_H)
        rgb = cv2.warpPerspective(sheet, homography, size, borderMode=cv2.BORDER_REPLICATE)
        shading = cv2.warpPerspective(shading, homography, size, borderMode=cv2.BORDER_REPLICATE)
        return rgb, shading

    frames = []
    squinted = False
    for (action, amount), at in zip(prompts, times, strict=True):
        squint = not squinted and rng.uniform() < 0.2
        squinted = squint
        rgb, _ = render(action, amount, squint)
        frames.append(SyntheticFrame(_jpeg(_camera(rgb, rng)), action, at))
    return frames + _print_phase(Light.of(light), times[-1], lambda: render(None, 0.0, False), rng)


def spliced_session(
    first: Photo, second: Photo, actions: list[str], *, seed: int = 0, light: Light | dict | None = None
) -> list[SyntheticFrame]:
    """Genuine frames of `first`, with the middle and later frames taken from a genuine session of `second`."""
    a = genuine_session(first, actions, seed=seed, light=light)
    b = genuine_session(second, actions, seed=seed, light=light)
    half = len(a) // 2
    return a[:half] + b[half:]


def with_light_phase(
    frames: list[SyntheticFrame], light: Light | dict | None, *, seed: int = 0
) -> list[SyntheticFrame]:
    """Frames of a session built without a colour phase, then the colour phase of whoever its first frame shows.

    The face of the first (neutral) frame sits still and reflects each colour the screen shows,
    with a camera lag, as in genuine_session. No face in that frame (an attack session of
    something else): the frame is sent unlit with the colour tags.
    """
    light = Light.of(light)
    if light is None or not frames or any(f.colour for f in frames):
        return frames
    rng = np.random.default_rng([seed, 13])
    first = decode_image(frames[0].jpeg, **_DECODE_LIMITS)
    faces = find_faces(first)
    lag = float(rng.uniform(0.0, MAX_CAPTURE_LAG_S))
    times = _colour_times(light, frames[-1].captured_at)
    out = list(frames)
    for tag, at, _ in times:
        shown = _shown(light, at, times[0][2], lag)
        rgb = lit_by(first, shown, _box_of(faces[0].points68)) if faces and shown is not None else first
        out.append(SyntheticFrame(_jpeg(_camera(rgb, rng, shake=1.0)), None, at, tag))
    return out


def decoded(frames: list[SyntheticFrame]) -> list[np.ndarray]:
    """The frames decoded as the server would."""
    return [decode_image(f.jpeg, **_DECODE_LIMITS) for f in frames]
