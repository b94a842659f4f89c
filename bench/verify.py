"""Check-in verification throughput on this machine, for the sessions the phone app sends and the older standard ones.

A phone session is what server/pwa/static/checkin.js uploads (server/device.py is the same phone on
the command line): 2 neutral frames, 4 per challenged action (2 or 3 actions drawn from the
configured pool, as server/services/checkins.py draws them), then 2 per colour of the colour-light
phase (4-6 colours from the challenge's nonce): 18-26 frames, 22 on average, each the camera's
640×480 frame shrunk to 480×360 and encoded at JPEG quality 70 (camera.js captureFrame).
A standard session is the figure this bench printed first: 10 frames of 640×480 at JPEG quality 85
for 2 actions, without the colour phase. Both are matched against 3 enrolled templates and decoded
as the worker decodes them, decoding included in the time.

The floor is the unavoidable work, measured in the same run: one detection and mesh pass per frame
and one 128-d encoding. Where the rest goes is told from the same run's cost of one frame's decoding,
one mesh pass and one encoding, times how many of each a session needs; what remains is the liveness
measures and decision (pose, eyes, mouth, static frames, the colour check) and the match.

The figures are per core: the face network runs on one BLAS thread (worker/face/encode.py) and the
mesh's TFLite on one thread. On a shared machine wall time is slowed by other work, CPU time is not:
check-ins per CPU-second and the CPU-time latencies are what one core would do alone.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from bench.faces import enrolment_template, faces_dir
from server.config import Settings
from server.device import app_jpeg
from server.services.verification import assess
from worker.face.detect import detect_faces, find_faces
from worker.face.encode import encode_face
from worker.face.image import decode_image
from worker.face.light import light_sequence
from worker.face.liveness import FrameInput, LightChallenge
from worker.face.synthetic import SyntheticFrame, genuine_session

STANDARD_ACTIONS = (["blink", "turn_left"], ["turn_right", "open_mouth"], ["nod", "blink"], ["open_mouth", "turn_left"])
ENROLLED = ("obama.jpg", "obama2.jpg", "32bit.png")
SUBJECT = "obama3.jpg"


@dataclass(frozen=True)
class _Session:
    frames: list[tuple[bytes, str | None, float, str | None]]  # (JPEG, action, captured_at, colour)
    actions: list[str]
    light: LightChallenge | None


def _as_phone(frame: SyntheticFrame) -> bytes:
    return app_jpeg(cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR))


def phone_sessions(count: int, settings: Settings) -> list[_Session]:
    """Genuine sessions shaped as the app sends them, challenges drawn as the server draws them (seeded)."""
    limits = settings.checkin
    rng = random.Random(17)
    out = []
    for i in range(count):
        pool = list(limits.action_list)
        actions = rng.sample(pool, rng.randint(limits.min_actions, min(limits.max_actions, len(pool))))
        colours = light_sequence(f"bench-verify-{i}")
        light = {"colours": list(colours), "step_ms": limits.light_step_ms}
        frames = genuine_session(faces_dir() / SUBJECT, actions, seed=i, light=light)
        out.append(
            _Session(
                [(_as_phone(f), f.action, f.captured_at, f.colour) for f in frames],
                actions,
                LightChallenge(colours, limits.light_step_ms),
            )
        )
    return out


def standard_sessions(count: int) -> list[_Session]:
    """The first figure's sessions: 10 frames of 640×480, 2 actions, no colour phase."""
    out = []
    for i in range(count):
        actions = STANDARD_ACTIONS[i % len(STANDARD_ACTIONS)]
        frames = genuine_session(faces_dir() / SUBJECT, actions, seed=i)
        out.append(_Session([(f.jpeg, f.action, f.captured_at, f.colour) for f in frames], actions, None))
    return out


def _cpu_ms(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return 1000 * float(np.median(times))


def measure(sessions: list[_Session], templates: list[np.ndarray], settings: Settings) -> dict[str, float]:
    """Decide every session as the worker does (decoding included); wall and CPU figures and the time's breakdown."""
    max_pixels = settings.checkin.max_frame_pixels

    def decode(data: bytes) -> np.ndarray:
        return decode_image(data, max_bytes=len(data), max_pixels=max_pixels)

    def verify(session: _Session):
        frames = [FrameInput(decode(j), action, at, colour) for j, action, at, colour in session.frames]
        return assess(frames, session.actions, templates, settings, light=session.light)

    verify(sessions[0])  # warm caches and models
    walls, cpus, verdicts, encoded = [], [], [], []
    for session in sessions:
        wall, cpu = time.perf_counter(), time.process_time()
        outcome = verify(session)
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
        verdicts.append(outcome.state.value)
        encoded.append(outcome.scores.get("frames_matched", 0))

    # Unit costs from the first, an acting and the last frame of a few sessions, often enough that
    # the machine's other work averages out of the median.
    jpegs = [s.frames[k][0] for s in sessions[:4] for k in (0, 3, -1)]
    faces = [(rgb, detect_faces(rgb)[0]) for rgb in (decode(j) for j in jpegs)]
    decode_ms = _cpu_ms(lambda: [decode(j) for j in jpegs], 8) / len(jpegs)
    mesh_ms = _cpu_ms(lambda: [find_faces(rgb) for rgb, _ in faces], 8) / len(faces)
    encode_ms = _cpu_ms(lambda: [encode_face(rgb, box) for rgb, box in faces], 4) / len(faces)
    frames = float(np.mean([len(s.frames) for s in sessions]))
    encodings = float(np.mean(encoded))
    floor_ms = frames * mesh_ms + encode_ms
    cpu_p50 = 1000 * float(np.percentile(cpus, 50))
    cpu_mean = 1000 * float(np.mean(cpus))
    stages = {
        "decode": frames * decode_ms,
        "mesh": frames * mesh_ms,
        "encode": encodings * encode_ms,
    }
    stages["liveness_and_match"] = cpu_mean - sum(stages.values())
    return {
        "sessions": len(sessions),
        "frames": frames,
        "encodings": encodings,
        "checkins_per_second": len(sessions) / sum(walls),
        # What one core would do alone: unlike wall time, not slowed by other work on the machine.
        "checkins_per_cpu_second": len(sessions) / sum(cpus),
        "p50_ms": 1000 * float(np.percentile(walls, 50)),
        "p95_ms": 1000 * float(np.percentile(walls, 95)),
        "cpu_p50_ms": cpu_p50,
        "cpu_p95_ms": 1000 * float(np.percentile(cpus, 95)),
        "floor_ms": floor_ms,
        "ratio_to_floor": cpu_p50 / floor_ms,
        "verified_share": verdicts.count("verified") / len(sessions),
        "decode_ms": decode_ms,
        "mesh_ms": mesh_ms,
        "encode_ms": encode_ms,
        **{f"stage_{name}_ms": value for name, value in stages.items()},
    }


def _report(title: str, figures: dict[str, float], echo: Callable[[str], None]) -> None:
    echo(title)
    echo(
        f"  check-ins per second per process: {figures['checkins_per_second']:.2f}"
        f"   per CPU-second: {figures['checkins_per_cpu_second']:.2f}  (target >= 12 per core)"
    )
    echo(
        f"  latency p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms;"
        f" CPU time p50 {figures['cpu_p50_ms']:.0f} ms, p95 {figures['cpu_p95_ms']:.0f} ms"
    )
    echo(
        f"  floor {figures['floor_ms']:.0f} ms ({figures['frames']:.1f} frames x mesh {figures['mesh_ms']:.1f} ms"
        f" + one encoding {figures['encode_ms']:.1f} ms); CPU p50 / floor: {figures['ratio_to_floor']:.2f}"
    )
    total = sum(figures[k] for k in figures if k.startswith("stage_"))
    parts = [
        ("decode", f"{figures['frames']:.1f} x {figures['decode_ms']:.2f} ms"),
        ("mesh", f"{figures['frames']:.1f} x {figures['mesh_ms']:.2f} ms"),
        ("encode", f"{figures['encodings']:.1f} x {figures['encode_ms']:.1f} ms"),
        ("liveness_and_match", "pose, eyes, mouth, static frames, colour check, identity spread, match"),
    ]
    echo(f"  where the CPU time goes (mean {total:.0f} ms per check-in):")
    for name, how in parts:
        value = figures[f"stage_{name}_ms"]
        echo(f"    {name:19s} {value:5.0f} ms  {value / total:4.0%}  ({how})")
    echo(f"  verified: {figures['verified_share']:.0%} of the genuine sessions")


def run(sessions: int = 40, echo: Callable[[str], None] = print) -> dict[str, dict[str, float]]:
    """Verify `sessions` phone sessions and as many standard ones in this process and print the figures."""
    settings = Settings.from_env()
    templates = [enrolment_template(name) for name in ENROLLED]
    results = {
        "phone": measure(phone_sessions(sessions, settings), templates, settings),
        "standard": measure(standard_sessions(sessions), templates, settings),
    }
    load = os.getloadavg()[0]
    echo(f"one process, 3 enrolled templates; machine load average {load:.1f} on {os.cpu_count()} cores")
    phone = results["phone"]
    _report(
        f"phone sessions: {sessions} as the app sends them (2-3 actions and the colour phase,"
        f" {phone['frames']:.1f} frames of 480x360 JPEG q70 on average)",
        phone,
        echo,
    )
    _report(
        f"standard sessions: {sessions} (10 frames 640x480 JPEG q85, 2 actions, no colour phase)",
        results["standard"],
        echo,
    )
    for figures in results.values():
        figures["load_average"] = load
    return results
