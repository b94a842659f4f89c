"""check_liveness on synthetic sessions from the real photos: each reason fires on its own case."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.support.sessions import SyntheticFrame, decoded, genuine_session, tilted_photo_session
from worker.face.liveness import (
    ACTION_NOT_SEEN,
    ACTIONS_OUT_OF_ORDER,
    FACE_NOT_FOUND,
    MULTIPLE_FACES,
    NO_3D_MOTION,
    TOO_DARK,
    FrameInput,
    LivenessLimits,
    check_liveness,
)

LIMITS = LivenessLimits()


def inputs(frames: list[SyntheticFrame], pixels: list[np.ndarray] | None = None) -> list[FrameInput]:
    rgbs = pixels if pixels is not None else decoded(frames)
    return [FrameInput(rgb, f.action, f.captured_at) for rgb, f in zip(rgbs, frames, strict=True)]


@pytest.mark.parametrize(
    "actions", [["blink", "turn_left"], ["turn_right", "open_mouth"], ["nod", "blink", "open_mouth"]]
)
def test_a_genuine_session_passes_and_reports_each_action(actions: list[str]) -> None:
    frames = genuine_session("obama3.jpg", actions, seed=21)
    result = check_liveness(inputs(frames), actions, LIMITS)
    assert result.passed, result
    assert set(result.actions) == set(actions)
    for action in actions:
        seen = result.actions[action]
        assert seen["seen"] and frames[seen["frame"]].action == action


def test_mirrored_frames_need_the_mirrored_flag() -> None:
    actions = ["turn_left", "blink"]
    frames = genuine_session("obama.jpg", actions, seed=22)
    flipped = [np.ascontiguousarray(rgb[:, ::-1]) for rgb in decoded(frames)]
    assert check_liveness(inputs(frames, flipped), actions, LIMITS, mirrored=True).passed
    unflagged = check_liveness(inputs(frames, flipped), actions, LIMITS, mirrored=False)
    assert unflagged.reasons == (ACTION_NOT_SEEN,)
    assert not unflagged.actions["turn_left"]["seen"]


def test_frames_captured_in_the_wrong_order_are_out_of_order() -> None:
    actions = ["open_mouth", "turn_right"]
    frames = genuine_session("obama2.jpg", actions, seed=23)
    # The same frames, but the clock says the second action's frames came first.
    end = frames[-1].captured_at
    shifted = [replace(f, captured_at=end - f.captured_at) if f.action else f for f in frames]
    result = check_liveness(inputs(shifted), actions, LIMITS)
    assert result.reasons == (ACTIONS_OUT_OF_ORDER,)


def test_a_dark_session_is_too_dark() -> None:
    actions = ["blink", "nod"]
    frames = genuine_session("obama3.jpg", actions, seed=24)
    dim = [(rgb.astype(np.float32) * 0.12).astype(np.uint8) for rgb in decoded(frames)]
    assert TOO_DARK in check_liveness(inputs(frames, dim), actions, LIMITS).reasons


def test_frames_without_a_face_are_face_not_found() -> None:
    actions = ["blink", "turn_left"]
    frames = genuine_session("obama3.jpg", actions, seed=25)
    pixels = decoded(frames)
    # The camera lost the face for half the session: a wall instead.
    wall = np.full_like(pixels[0], 170)
    pixels = [wall if i % 2 else rgb for i, rgb in enumerate(pixels)]
    result = check_liveness(inputs(frames, pixels), actions, LIMITS)
    assert FACE_NOT_FOUND in result.reasons


def test_a_second_face_in_the_frame_is_multiple_faces() -> None:
    actions = ["open_mouth", "blink"]
    frames = genuine_session("obama3.jpg", actions, seed=26)
    other = decoded(genuine_session("biden.jpg", actions, seed=26))
    # Two people side by side: each frame is the left half of one and the right half of the other,
    # scaled back to one frame.
    pixels = [
        np.concatenate([a[:, 120:440], b[:, 120:440]], axis=1) for a, b in zip(decoded(frames), other, strict=True)
    ]
    result = check_liveness(inputs(frames, pixels), actions, LIMITS)
    assert MULTIPLE_FACES in result.reasons


def test_a_photo_tilted_out_of_plane_shows_no_depth() -> None:
    actions = ["turn_left", "turn_right"]
    frames = tilted_photo_session("obama3.jpg", actions, seed=27)
    result = check_liveness(inputs(frames), actions, LIMITS)
    assert not result.passed
    assert NO_3D_MOTION in result.reasons or ACTION_NOT_SEEN in result.reasons
    # Where a tilt did read as a turn, the nose's parallax gave it away.
    for action in actions:
        if result.actions[action]["seen"]:
            assert result.actions[action]["depth"] < LIMITS.min_nose_depth


def test_unknown_actions_are_a_programming_error() -> None:
    frames = genuine_session("obama3.jpg", ["blink", "nod"], seed=28)
    with pytest.raises(ValueError, match="unknown liveness actions"):
        check_liveness(inputs(frames), ["blink", "wink"], LIMITS)
