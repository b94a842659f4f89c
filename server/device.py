"""A phone on the command line: plays a recorded video through the check-in protocol the app uses.

For offices (try a server from a desk) and load tests. It redeems an activation code (with the
person's consent), asks for a challenge, samples the video at the times the app would capture
frames (the same timeline as server/pwa/static/checkin.js: the video's first frame is the tap on
"start"), uploads with a client id (retried with the same id), and polls for the verdict.

A recorded video cannot respond to the challenge: its actions were performed before the challenge
was drawn, and it cannot reflect the colours the app would show. Frames of the colour phase are
tagged with the colour the protocol scheduled, as the app does, so once the server checks the light
response such a check-in goes to review or is rejected — which is the point of the colour check.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import requests

# The app's timeline (server/pwa/static/checkin.js), in seconds from the tap on "start".
HOLD_S = 1.5
HOLD_FRAMES_AT = (0.6, 1.2)
ACTION_S = 5.0
ACTION_FRAMES_AT = (2.0, 2.7, 3.4, 4.6)
COLOUR_FRAMES_AT = (0.36, 0.72)  # shares of a colour step
# Frames as the app sends them (camera.js): longer side 480 px, JPEG quality 70.
FRAME_LONG_SIDE = 480
JPEG_QUALITY = 70
RETRY_DELAYS_S = (1, 2, 4)
POLL_S = 1.5
APP_VERSION = "cli-1.0.0"


class DeviceError(RuntimeError):
    """The server refused a step; the message says which and why."""


class ServerBusy(DeviceError):
    """The server failed (5xx): worth another try with the same client id."""


@dataclass(frozen=True)
class Shot:
    at: float  # seconds from the start of the video
    action: str | None
    colour: str | None


def schedule(challenge: dict[str, Any]) -> list[Shot]:
    """When the app captures each frame for this challenge, and what it tags it with."""
    shots = [Shot(at, None, None) for at in HOLD_FRAMES_AT]
    for k, prompt in enumerate(challenge["actions"]):
        shots += [Shot(HOLD_S + k * ACTION_S + at, prompt["action"], None) for at in ACTION_FRAMES_AT]
    light = challenge.get("light") or {}
    start = HOLD_S + len(challenge["actions"]) * ACTION_S
    step = (light.get("step_ms") or 0) / 1000
    for j, colour in enumerate(light.get("colours") or []):
        shots += [Shot(start + j * step + share * step, None, colour) for share in COLOUR_FRAMES_AT]
    return shots


def app_jpeg(bgr: np.ndarray) -> bytes:
    """A BGR camera frame as the app uploads it (camera.js captureFrame): longer side 480 px, JPEG quality 70."""
    height, width = bgr.shape[:2]
    scale = min(1.0, FRAME_LONG_SIDE / max(height, width))
    if scale < 1:
        bgr = cv2.resize(bgr, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise DeviceError("could not encode a frame as JPEG")
    return data.tobytes()


def sample_video(video: Path, shots: list[Shot]) -> list[bytes]:
    """The video's frame at each shot's time, as the app's JPEGs."""
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise DeviceError(f"cannot open the video {video}")
    try:
        fps = capture.get(cv2.CAP_PROP_FPS) or 0
        if fps <= 0:
            raise DeviceError(f"{video} does not say its frame rate")
        wanted = [round(shot.at * fps) for shot in shots]
        frames: dict[int, bytes] = {}
        index = 0
        # Read through once: seeking is unreliable in many codecs.
        while len(frames) < len(set(wanted)):
            ok, bgr = capture.read()
            if not ok:
                raise DeviceError(
                    f"{video} ends after {index / fps:.1f} s; the challenge needs {max(s.at for s in shots):.1f} s"
                )
            if index in wanted:
                frames[index] = app_jpeg(bgr)
            index += 1
        return [frames[i] for i in wanted]
    finally:
        capture.release()


class DeviceClient:
    """The API as a beneficiary's phone uses it."""

    def __init__(self, server: str, *, timeout: float = 60) -> None:
        self.server = server.rstrip("/")
        self.http = requests.Session()
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = self.http.request(method, f"{self.server}/api/v1{path}", timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            try:
                body = response.json()
                detail = f"{body.get('message')} {json.dumps(body.get('errors'), ensure_ascii=False)}"
            except ValueError:
                detail = response.text[:200]
            error = ServerBusy if response.status_code >= 500 else DeviceError
            raise error(f"{method} {path} answered {response.status_code}: {detail}")
        return response

    def consent_text(self) -> dict[str, Any]:
        return self._call("GET", "/consent/biometric").json()

    def activate(self, code: str, consent_version: str) -> None:
        token = self._call("POST", "/devices/activate", json={"code": code, "consent_version": consent_version})
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def challenge(self) -> dict[str, Any]:
        return self._call("POST", "/checkin-challenges", json={}).json()

    def submit(self, challenge: dict[str, Any], shots: list[Shot], jpegs: list[bytes]) -> dict[str, Any]:
        """Upload; a dropped connection or a 5xx is retried with the same client id (the same check-in)."""
        start = datetime.now(UTC)
        metadata = {
            "challenge_id": challenge["id"],
            "client_id": uuid.uuid4().hex,
            "frames": [
                {"captured_at": (start + timedelta(seconds=s.at)).isoformat(), "action": s.action, "colour": s.colour}
                for s in shots
            ],
            "gps": None,
            "device": {"model": "fieldcheck device", "os": "command line", "app_version": APP_VERSION},
        }
        files = [("frames", (f"{i}.jpg", data, "image/jpeg")) for i, data in enumerate(jpegs)]
        for delay in (*RETRY_DELAYS_S, None):
            try:
                return self._call("POST", "/checkins", data={"metadata": json.dumps(metadata)}, files=files).json()
            except (requests.ConnectionError, requests.Timeout, ServerBusy):
                if delay is None:
                    raise
                time.sleep(delay)
        raise DeviceError("no attempt was made")

    def verdict(self, checkin_id: str, *, patience_s: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + patience_s
        while True:
            status = self._call("GET", f"/checkins/{checkin_id}").json()
            if status["status"] != "pending" or time.monotonic() > deadline:
                return status
            time.sleep(POLL_S)


def check_in(client: DeviceClient, *, code: str, video: Path, consent_version: str) -> dict[str, Any]:
    """Activate with the code, play the video through one challenge, and return the verdict the phone sees."""
    client.activate(code, consent_version)
    challenge = client.challenge()
    shots = schedule(challenge)
    jpegs = sample_video(video, shots)
    accepted = client.submit(challenge, shots, jpegs)
    return client.verdict(accepted["id"]) | {"frames": len(jpegs), "bytes": sum(map(len, jpegs))}
