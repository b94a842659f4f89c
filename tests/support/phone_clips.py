"""Camera clips for the phone app's browser tests: what the fake camera shows while the app prompts.

The app's timeline is fixed from the moment the person taps "start" (server/pwa/static/checkin.js:
a 1.5 s hold, 5 s per action with frames at 2, 2.7, 3.4 and 4.6 s, then the colour steps). A test
taps "start" when the clip has played CLICK_AT seconds, so the clip can show each action during its
prompt: the person performs it a second into the window, holds it and comes back before the last frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from tests.support.browser import write_y4m
from tests.support.sessions import decoded, genuine_session, still_photo_session
from worker.face import synthetic

FPS = 10
CLICK_AT = 2.0
HOLD_S = 1.5
ACTION_S = 5.0
# The person starts moving a second after the prompt appears, holds the pose for three seconds and
# comes back, as the prompt asks.
ACTION_FROM_S, ACTION_UNTIL_S = 1.0, 4.0
# A face reflects the screen at once; the camera shows it a little later.
LIGHT_LAG_S = 0.1
TAIL_S = 3.0


def _light(challenge: dict) -> tuple[list[str], float]:
    light = challenge.get("light") or {}
    return list(light.get("colours") or []), (light.get("step_ms") or 0) / 1000


def _timeline(challenge: dict) -> tuple[list[tuple[float, float, str]], float]:
    """(start, end, what) segments in clip seconds: what is an action, 'colour:#rrggbb', or neutral elsewhere."""
    t0 = CLICK_AT + HOLD_S
    segments = []
    for k, prompt in enumerate(challenge["actions"]):
        start = t0 + k * ACTION_S
        segments.append((start + ACTION_FROM_S, start + ACTION_UNTIL_S, prompt["action"]))
    colours, step = _light(challenge)
    t1 = t0 + len(challenge["actions"]) * ACTION_S
    for j, colour in enumerate(colours):
        segments.append((t1 + j * step + LIGHT_LAG_S, t1 + (j + 1) * step + LIGHT_LAG_S, f"colour:{colour}"))
    return segments, t1 + len(colours) * step + TAIL_S


def _hand_held(frame: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The frame as a phone held in a hand films it: a drift of a pixel or two, and sensor noise."""
    dx, dy = rng.normal(0, 1.2, size=2)
    shifted = cv2.warpAffine(
        frame, np.float32([[1, 0, dx], [0, 1, dy]]), (frame.shape[1], frame.shape[0]), borderMode=cv2.BORDER_REFLECT
    )
    noise = rng.integers(-3, 4, size=frame.shape, dtype=np.int16)
    return np.clip(shifted.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _in_sun(frame: np.ndarray) -> np.ndarray:
    """The frame in direct sunlight: the face bright and partly washed out."""
    return np.clip(frame.astype(np.float32) * 1.5 + 30, 0, 255).astype(np.uint8)


def _genuine_frames(challenge: dict, photo: str, seed: int, *, in_sun: bool = False) -> Iterator[np.ndarray]:
    actions = [a["action"] for a in challenge["actions"]]
    states = decoded(genuine_session(photo, actions, seed=seed))
    neutral = states[:2]
    # The generator's frames: the neutral ones, then per action its steps (part-way, full, full, back).
    first, per = synthetic.NEUTRAL_FRAMES, len(synthetic.ACTION_STEPS)
    performed = {action: (states[first + per * k], states[first + per * k + 1]) for k, action in enumerate(actions)}
    segments, length = _timeline(challenge)
    rng = np.random.default_rng(seed)
    lit: dict[tuple[str, int], np.ndarray] = {}
    for i in range(int(length * FPS)):
        t = i / FPS
        frame = neutral[i % 2]
        for start, end, what in segments:
            if start <= t < end:
                if what.startswith("colour:"):
                    if in_sun:
                        # The sun drowns the screen's light: nothing of it shows on the face.
                        continue
                    key = (what.removeprefix("colour:"), i % 2)
                    if key not in lit:
                        lit[key] = synthetic.lit_by(neutral[i % 2], key[0])
                    frame = lit[key]
                else:
                    # Part of the way first, then the full movement.
                    frame = performed[what][0 if t < start + 0.4 else 1]
        yield _hand_held(_in_sun(frame) if in_sun else frame, rng)


def write_genuine_clip(path: Path, challenge: dict, photo: str, *, seed: int = 0, in_sun: bool = False) -> Path:
    """The enrolled person performing the challenge, its face reflecting the screen colours (or, `in_sun`,
    in direct sunlight, which drowns them)."""
    return write_y4m(path, _genuine_frames(challenge, photo, seed, in_sun=in_sun), fps=FPS)


def write_still_clip(path: Path, challenge: dict, photo: str) -> Path:
    """A printed photo held still in front of the camera for the whole check-in."""
    still = decoded(still_photo_session(photo, [a["action"] for a in challenge["actions"]])[:1])[0]
    _segments, length = _timeline(challenge)
    return write_y4m(path, (still for _ in range(int(length * FPS))), fps=FPS)
