"""The colour-light challenge (光线活体): the screen flashes a sequence of colours, a live face reflects them.

The sequence is derived from the challenge's nonce, so the server recomputes it and nothing about
it is stored. During the colour phase the phone fills its screen with each colour for step_ms and
tags each frame with the colour it showed. A face a forearm from the screen reflects that light:
its colour moves with the sequence (a frame may show the previous colour: phones deliver frames up
to ~300 ms late, so small lags are tried), more strongly on the face than on the background metres
behind, and more where the face looks at the screen than where it curves away. A replay made under
another challenge follows the wrong sequence; an animated photo fed to the camera reflects
nothing; a print or a monitor reflects the colour evenly over the whole frame.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import numpy as np

# Screen colours easy to tell apart in a reflection: primaries, secondaries and white.
PALETTE = ("#ff0000", "#00ff00", "#0000ff", "#ffffff", "#ff00ff", "#00ffff", "#ffff00")
MIN_COLOURS = 4
MAX_COLOURS = 6

MATCHED = "matched"
MISMATCHED = "mismatched"
UNMEASURABLE = "unmeasurable"

# Frames are compared at this downscale: a mean over the face needs no more, and it is 16× cheaper.
_BACKGROUND_SCALE = 4
# The background is what lies this many face-box sizes beyond the box on every side.
_BACKGROUND_MARGIN = 0.6


def light_sequence(nonce: str) -> tuple[str, ...]:
    """The challenge's colours, 4-6 distinct ones from PALETTE, derived from its nonce (same nonce, same colours)."""
    seed = hashlib.sha256(b"fieldcheck-light:" + nonce.encode()).digest()
    rng = random.Random(seed)
    return tuple(rng.sample(PALETTE, rng.randint(MIN_COLOURS, MAX_COLOURS)))


@dataclass(frozen=True)
class LightFrame:
    """One colour-phase frame: pixels, the colour tagged, capture time in s, the face's mesh (None without a face)."""

    rgb: np.ndarray
    colour: str
    captured_at: float
    mesh: np.ndarray | None


@dataclass(frozen=True)
class LightVerdict:
    """matched, mismatched or unmeasurable, and the figures behind it (for the reviewer)."""

    outcome: str
    details: dict


def colour_rgb(colour: str) -> np.ndarray:
    """'#rrggbb' as floats in 0-1."""
    value = colour.lstrip("#")
    return np.array([int(value[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float64) / 255.0


def check_light(
    frames: list[LightFrame],
    colours: tuple[str, ...],
    step_ms: int,
    *,
    max_lag_ms: int,
    min_correlation: float,
    min_gain: float,
    ambient_brightness: float,
    max_background_share: float,
    min_shape_ratio: float,
) -> LightVerdict:
    """Whether the faces in the colour-phase frames reflected the challenge's colours, in time and face-shaped."""
    tagged = [f for f in frames if f.mesh is not None and f.colour in colours]
    if len({f.colour for f in tagged}) < 2 or len(tagged) < 3:
        return LightVerdict(MISMATCHED, {"frames": len(tagged), "why": "colour_phase_missing"})
    if [c for c in dict.fromkeys(f.colour for f in sorted(tagged, key=lambda f: f.captured_at))] != [
        c for c in colours if c in {f.colour for f in tagged}
    ]:
        return LightVerdict(MISMATCHED, {"frames": len(tagged), "why": "colours_out_of_sequence"})

    samples = np.array([_sample(f) for f in tagged])  # (n, 4, 3): face, centre, outer, background
    step = step_ms / 1000.0
    index = np.array([colours.index(f.colour) for f in tagged])
    times = np.array([f.captured_at for f in tagged])
    # The phone starts capturing 200 ms into each step: the earliest frame sets the phase's clock.
    phase_start = float(np.min(times - index * step)) - 0.2
    best: tuple[float, float, np.ndarray, np.ndarray] | None = None
    for lag in np.arange(0.0, max_lag_ms / 1000.0 + 1e-9, 0.05):
        shown = np.floor((times - lag - phase_start) / step).astype(int)
        keep = (shown >= 0) & (shown < len(colours))
        if keep.sum() < 3 or len(set(shown[keep])) < 2:
            continue
        expected = np.array([colour_rgb(colours[k]) for k in shown[keep]])
        corr = _correlation(samples[keep, 0], expected)
        if best is None or corr > best[1]:
            best = (float(lag), corr, keep, expected)
    if best is None:
        return LightVerdict(MISMATCHED, {"frames": len(tagged), "why": "too_few_steps"})
    lag, corr, keep, expected = best
    face, centre, outer, background = (_gain(samples[keep, i], expected) for i in range(4))
    brightness = float(samples[keep, 0].mean(axis=0) @ np.array([0.299, 0.587, 0.114]))
    details = {
        "lag_ms": round(lag * 1000),
        "correlation": round(corr, 3),
        "gain": round(face, 2),
        "background_share": round(background / face, 3) if face > 0 else None,
        "shape_ratio": round(centre / outer, 3) if outer > 0 else None,
        "brightness": round(brightness, 1),
    }
    changed = float(np.sqrt(np.mean(_centred(samples[keep, 0]) ** 2)))
    details["change"] = round(changed, 2)
    if face < min_gain:
        # Too little reflection of the sequence. A face whose colour changed anyway followed
        # another sequence (a replay); one that stayed put either was drowned out by bright light
        # (the person can move out of the sun: a person decides) or reflected nothing at all.
        if changed >= min_gain / 2:
            details["why"] = "wrong_sequence"
            return LightVerdict(MISMATCHED, details)
        details["why"] = "drowned_by_ambient_light" if brightness >= ambient_brightness else "no_response"
        return LightVerdict(UNMEASURABLE if brightness >= ambient_brightness else MISMATCHED, details)
    if corr < min_correlation:
        details["why"] = "wrong_sequence"
        return LightVerdict(MISMATCHED, details)
    if background > max_background_share * face:
        details["why"] = "not_face_shaped"
        return LightVerdict(MISMATCHED, details)
    if outer <= 0 or centre < min_shape_ratio * outer:
        details["why"] = "flat"
        return LightVerdict(MISMATCHED, details)
    return LightVerdict(MATCHED, details)


def _sample(frame: LightFrame) -> np.ndarray:
    """Mean RGB of the face, its nearer and farther halves (by the mesh's depth), and the background."""
    import cv2

    rgb = frame.rgb
    mesh = frame.mesh
    height, width = rgb.shape[:2]
    left, top = mesh[:, 0].min(), mesh[:, 1].min()
    right, bottom = mesh[:, 0].max(), mesh[:, 1].max()
    # Each mesh point reads the mean of the 5×5 pixels around it, blurred over the face's crop only.
    x0, y0 = max(0, int(left) - 3), max(0, int(top) - 3)
    crop = cv2.blur(rgb[y0 : min(height, int(bottom) + 4), x0 : min(width, int(right) + 4)], (5, 5))
    xs = np.clip(np.round(mesh[:, 0]).astype(int) - x0, 0, crop.shape[1] - 1)
    ys = np.clip(np.round(mesh[:, 1]).astype(int) - y0, 0, crop.shape[0] - 1)
    values = crop[ys, xs].astype(np.float64)
    nearer = mesh[:, 2] <= np.median(mesh[:, 2])
    mx, my = _BACKGROUND_MARGIN * (right - left), _BACKGROUND_MARGIN * (bottom - top)
    small = rgb[::_BACKGROUND_SCALE, ::_BACKGROUND_SCALE].astype(np.float64)
    mask = np.ones(small.shape[:2], dtype=bool)
    s = _BACKGROUND_SCALE
    mask[
        max(0, int((top - my) / s)) : int((bottom + my) / s) + 1,
        max(0, int((left - mx) / s)) : int((right + mx) / s) + 1,
    ] = False
    background = small[mask].mean(axis=0) if mask.any() else np.zeros(3)
    return np.stack([values.mean(axis=0), values[nearer].mean(axis=0), values[~nearer].mean(axis=0), background])


def _centred(values: np.ndarray) -> np.ndarray:
    return values - values.mean(axis=0)


def _correlation(observed: np.ndarray, expected: np.ndarray) -> float:
    o, e = _centred(observed).ravel(), _centred(expected).ravel()
    denominator = float(np.sqrt((o @ o) * (e @ e)))
    return float(o @ e) / denominator if denominator > 1e-9 else 0.0


def _gain(observed: np.ndarray, expected: np.ndarray) -> float:
    """Grey levels of response per unit of screen colour (least squares over frames and channels)."""
    o, e = _centred(observed).ravel(), _centred(expected).ravel()
    return float(o @ e) / max(float(e @ e), 1e-9)
