"""The colour-light challenge (光线活体): the screen flashes a sequence of colours, a live face reflects them.

The sequence is derived from the challenge's nonce, so the server recomputes it and nothing about
it is stored. During the colour phase the phone fills its screen with each colour for step_ms and
tags each frame with the colour it showed. A face a forearm from the screen reflects that light:
its colour moves with the sequence (a frame may show the previous colour: phones deliver frames up
to ~300 ms late, so small lags are tried), more strongly on the face than on the background metres
behind, and more where the face looks at the screen than where it curves away. A replay made under
another challenge follows the wrong sequence; an animated photo fed to the camera reflects
nothing; a print or a monitor reflects the colour evenly over the whole frame.

Every measure is a mean over many points and frames (JPEG blocks and sensor noise average out),
and leaves out what is clipped white: on a brightly lit face the nearer half clips first and
would read as flat, and a white wall behind a face would read as reflecting nothing. The sequence
is followed in all three channels, each on the face's unclipped points; when a channel is clipped
all over the face (two channels confuse colours: green with yellow, blue with magenta), or too
much is clipped to see the face's shape, the verdict is unmeasurable (a person decides), never matched.
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
# A point's channel this bright (of 255, after the 5×5 mean) in some frame is clipped; a channel
# is measured when at least this share of each half of the face (and of the background, for the
# background's share) stays below it.
_CLIPPED = 245.0
_MIN_UNCLIPPED_SHARE = 0.15


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
    min_shape_ratio_alone: float,
    step_margin: float,
) -> LightVerdict:
    """Whether the faces in the colour-phase frames reflected the challenge's colours, in time and face-shaped."""
    tagged = [f for f in frames if f.mesh is not None and f.colour in colours]
    if len({f.colour for f in tagged}) < 2 or len(tagged) < 3:
        return LightVerdict(MISMATCHED, {"frames": len(tagged), "why": "colour_phase_missing"})
    if [c for c in dict.fromkeys(f.colour for f in sorted(tagged, key=lambda f: f.captured_at))] != [
        c for c in colours if c in {f.colour for f in tagged}
    ]:
        return LightVerdict(MISMATCHED, {"frames": len(tagged), "why": "colours_out_of_sequence"})

    sampled = [_sample(f) for f in tagged]
    samples, channels, shaped, behind = _regions(sampled)
    if shaped.sum() < 2:
        # The face is clipped white in most channels: the light is too strong to see the screen's
        # reflection as face-shaped (one channel alone cannot tell the colours apart). The person
        # can move out of the sun; failing that, a person decides.
        return LightVerdict(UNMEASURABLE, {"frames": len(tagged), "why": "face_overexposed"})
    step = step_ms / 1000.0
    index = np.array([colours.index(f.colour) for f in tagged])
    times = np.array([f.captured_at for f in tagged])
    # The phone starts capturing 200 ms into each step: the earliest frame sets the phase's clock.
    phase_start = float(np.min(times - index * step)) - 0.2
    best: tuple[float, float, np.ndarray, np.ndarray, np.ndarray] | None = None
    for lag in np.arange(0.0, max_lag_ms / 1000.0 + 1e-9, 0.05):
        shown = np.floor((times - lag - phase_start) / step).astype(int)
        keep = (shown >= 0) & (shown < len(colours))
        if keep.sum() < 3 or len(set(shown[keep])) < 2:
            continue
        expected = np.array([colour_rgb(colours[k]) for k in shown[keep]])
        corr = _correlation(samples[keep, 0][:, channels], expected[:, channels])
        if best is None or corr > best[1]:
            best = (float(lag), corr, keep, expected, shown[keep])
    if best is None:
        return LightVerdict(MISMATCHED, {"frames": len(tagged), "why": "too_few_steps"})
    lag, corr, keep, expected, steps = best
    face = _gain(samples[keep, 0][:, channels], expected[:, channels])
    centre, outer = (_gain(samples[keep, i][:, shaped], expected[:, shaped]) for i in (1, 2))
    # The background is compared with the face on the channels where both could be measured.
    background, face_there = (
        (
            _gain(samples[keep, 3][:, behind], expected[:, behind]),
            _gain(samples[keep, 0][:, behind], expected[:, behind]),
        )
        if behind.any()
        else (0.0, 0.0)
    )
    brightness = float(np.mean([s.brightness for s, kept in zip(sampled, keep, strict=True) if kept]))
    details = {
        "lag_ms": round(lag * 1000),
        "correlation": round(corr, 3),
        "gain": round(face, 2),
        "background_share": round(background / face_there, 3) if face_there > 0 else None,
        "shape_ratio": round(centre / outer, 3) if outer > 0 else None,
        "brightness": round(brightness, 1),
        "channels": int(channels.sum()),
        "shape_channels": int(shaped.sum()),
    }
    changed = float(np.sqrt(np.mean(_centred(samples[keep, 0][:, channels]) ** 2)))
    details["change"] = round(changed, 2)
    mismatched = _steps_mismatched(samples[keep, 0][:, channels], expected[:, channels], steps, channels, step_margin)
    details["steps_mismatched"] = mismatched
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
    if mismatched:
        # A recording made under another challenge follows this one where their colours agree and
        # betrays itself where they differ; the correlation over the whole phase can miss that.
        details["why"] = "wrong_colour_step"
        return LightVerdict(MISMATCHED, details)
    if outer <= 0 or centre < min_shape_ratio * outer:
        details["why"] = "flat"
        return LightVerdict(MISMATCHED, details)
    if behind.any() and background > max_background_share * face_there:
        details["why"] = "not_face_shaped"
        return LightVerdict(MISMATCHED, details)
    if not behind.any() and centre < min_shape_ratio_alone * outer:
        # Everything behind the face is clipped white (a window, a lamp): whether the light came
        # off the face alone or off a screen's glass over the whole frame rests on the face's
        # shape alone, so it must be clearly face-shaped; short of that a person decides.
        details["why"] = "background_overexposed"
        return LightVerdict(UNMEASURABLE, details)
    if channels.sum() < 3:
        # A channel is clipped white all over the face. In the two left, colours that differ only
        # in it look alike: a recording made under blue, white, green, magenta, cyan follows
        # magenta, cyan, yellow, blue, white exactly in green and blue, and clipping red is one
        # filter away for whoever injects a recording. What the two channels refute stands (above);
        # what they confirm is not enough: the person can move out of the sun, or a person decides.
        details["why"] = "channel_clipped"
        return LightVerdict(UNMEASURABLE, details)
    return LightVerdict(MATCHED, details)


@dataclass(frozen=True)
class _Sampled:
    """One frame: the face at every mesh point (points × RGB), which points are nearer, the frame downscaled
    (`small`) and which of its pixels are background (`outside`)."""

    points: np.ndarray
    nearer: np.ndarray
    small: np.ndarray
    outside: np.ndarray
    brightness: float


def _sample(frame: LightFrame) -> _Sampled:
    """The face's colour at every mesh point (each the mean of the 5×5 pixels around it) and the background."""
    import cv2

    rgb = frame.rgb
    mesh = frame.mesh
    height, width = rgb.shape[:2]
    left, top = mesh[:, 0].min(), mesh[:, 1].min()
    right, bottom = mesh[:, 0].max(), mesh[:, 1].max()
    # Blurred over the face's crop only: a mean over 25 pixels is what tames JPEG blocks and sensor noise.
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
    brightness = float(values.mean(axis=0) @ np.array([0.299, 0.587, 0.114]))
    return _Sampled(values, nearer, small, mask, brightness)


def _regions(sampled: list[_Sampled]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per frame, the mean RGB of the face, its nearer and farther halves and the background: (frames, 4, 3).

    A point's (or background pixel's) channel that reaches white in any frame is left out of that
    channel's means in every frame: a clipped channel cannot show the light added to it. On a
    brightly lit face the nearer half, which the screen lights most, clips first, so it would read
    as flat; a white wall behind a face would read as reflecting nothing. Also returns the
    channels that kept enough unclipped points on the face to follow the sequence, those that kept
    enough in each half to compare the halves (the face's shape), and those of the first that kept
    enough unclipped background to compare with.

    A channel whose nearer half clipped still follows the sequence on the rest of the face: a warm
    light that clips red on the cheeks and nose leaves green and blue alone to tell the colours
    apart, and in those two a recording made under blue, white, cyan, magenta agrees with magenta,
    cyan, yellow, blue at three steps of four (East Asian set: such a replay matched the sequence).
    """
    points = np.stack([s.points for s in sampled])  # (frames, points, 3)
    nearer = sampled[0].nearer
    unclipped = points.max(axis=0) < _CLIPPED  # (points, 3)
    small = np.stack([s.small for s in sampled])  # (frames, h, w, 3)
    outside = np.logical_and.reduce([s.outside for s in sampled])
    open_background = (small.max(axis=0) < _CLIPPED) & outside[..., None]  # (h, w, 3)
    out = np.zeros((len(sampled), 4, 3))
    face = np.zeros(3, dtype=bool)
    shape = np.zeros(3, dtype=bool)
    background = np.zeros(3, dtype=bool)
    enough = _MIN_UNCLIPPED_SHARE * nearer.sum()
    for c in range(3):
        near, far, behind = unclipped[:, c] & nearer, unclipped[:, c] & ~nearer, open_background[..., c]
        if near.sum() + far.sum() < 2 * enough:
            continue
        face[c] = True
        out[:, 0, c] = points[:, unclipped[:, c], c].mean(axis=1)
        if min(near.sum(), far.sum()) >= enough:
            shape[c] = True
            out[:, 1, c] = points[:, near, c].mean(axis=1)
            out[:, 2, c] = points[:, far, c].mean(axis=1)
        if not outside.any():
            # The face fills the frame: no background to compare with, none reflecting.
            background[c] = True
        elif behind.sum() >= _MIN_UNCLIPPED_SHARE * outside.sum():
            background[c] = True
            out[:, 3, c] = small[:, behind, c].mean(axis=1)
    return out, face, shape, background


def _steps_mismatched(
    observed: np.ndarray, expected: np.ndarray, steps: np.ndarray, channels: np.ndarray, margin: float
) -> int:
    """How many colour steps another palette colour explains clearly better than the one the step claims.

    The face's colour is modelled as ambient light plus a per-channel gain times the screen's colour
    (both fitted over the frames against the claimed sequence); each step's mean is then compared with
    the model for its claimed colour and for every other palette colour, which must miss it by less
    than `margin` times the claimed colour's miss to count against the step.
    """
    mean_obs, mean_exp = observed.mean(axis=0), expected.mean(axis=0)
    o, e = observed - mean_obs, expected - mean_exp
    gain = (o * e).sum(axis=0) / np.maximum((e * e).sum(axis=0), 1e-9)
    palette = np.array([colour_rgb(c) for c in PALETTE])[:, channels]
    predicted = mean_obs + gain * (palette - mean_exp)
    wrong = 0
    for k in sorted(set(steps.tolist())):
        seen = observed[steps == k].mean(axis=0)
        claimed = expected[steps == k][0]
        misses = np.linalg.norm(predicted - seen, axis=1)
        own = float(np.linalg.norm(mean_obs + gain * (claimed - mean_exp) - seen))
        others = [m for m, c in zip(misses, palette, strict=True) if not np.allclose(c, claimed)]
        if others and min(others) < margin * own:
            wrong += 1
    return wrong


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
