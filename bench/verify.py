"""Check-in verification throughput on this machine for standard sessions.

A standard session is 10 frames of 640×480 (two neutral, four per action) for 2 challenged actions,
without the colour phase, matched against 3 enrolled templates. The floor is the unavoidable work
measured in the same run: one 128-d encoding and ten face-mesh passes. The face network runs on one BLAS thread
(worker/face/encode.py), so the figures are per core.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import numpy as np

from bench.faces import faces_dir
from bench.faces import photo as photo_bytes
from server.config import Settings
from server.services.verification import assess
from worker.face.detect import detect_faces, find_faces
from worker.face.encode import encode_face
from worker.face.image import decode_image
from worker.face.liveness import FrameInput
from worker.face.synthetic import genuine_session

ACTION_SETS = (["blink", "turn_left"], ["turn_right", "open_mouth"], ["nod", "blink"], ["open_mouth", "turn_left"])
LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}


def _template(name: str) -> np.ndarray:
    rgb = decode_image(photo_bytes(name), **LIMITS)
    return encode_face(rgb, detect_faces(rgb)[0])


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def run(sessions: int = 40, echo: Callable[[str], None] = print) -> dict[str, float]:
    """Verify `sessions` standard sessions in this process and print the figures."""
    settings = Settings.from_env()
    templates = [_template(name) for name in ("obama.jpg", "obama2.jpg", "32bit.png")]
    prepared = []
    for i in range(sessions):
        actions = ACTION_SETS[i % len(ACTION_SETS)]
        frames = genuine_session(faces_dir() / "obama3.jpg", actions, seed=i)
        prepared.append(([(f.jpeg, f.action, f.captured_at) for f in frames], actions))

    def verify(session) -> str:
        raw, actions = session
        frames = [FrameInput(decode_image(j, **LIMITS), action, at) for j, action, at in raw]
        return assess(frames, actions, templates, settings, light=None).state.value

    verify(prepared[0])  # warm caches and models
    latencies, verdicts = [], []
    cpu_start = time.process_time()
    for session in prepared:
        start = time.perf_counter()
        verdicts.append(verify(session))
        latencies.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu_start

    frame = decode_image(prepared[0][0][0][0], **LIMITS)
    box = detect_faces(frame)[0]
    floor = float(np.median(_timed(lambda: (encode_face(frame, box), [find_faces(frame) for _ in range(10)]), 10)))
    total = sum(latencies)
    figures = {
        "sessions": sessions,
        "checkins_per_second": sessions / total,
        # What one core would do alone: unlike wall time, not slowed by other work on the machine.
        "checkins_per_cpu_second": sessions / cpu,
        "load_average": os.getloadavg()[0],
        "p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "p95_ms": 1000 * float(np.percentile(latencies, 95)),
        "floor_ms": 1000 * floor,
        "ratio_to_floor": float(np.percentile(latencies, 50)) / floor,
        "verified_share": verdicts.count("verified") / sessions,
    }
    echo(f"standard sessions: {sessions} (10 frames 640x480, 3 enrolled templates), one process")
    echo(f"  check-ins per second per process: {figures['checkins_per_second']:.2f}  (target >= 6)")
    echo(
        f"  check-ins per CPU-second: {figures['checkins_per_cpu_second']:.2f}"
        f"  (machine load average {figures['load_average']:.1f} on {os.cpu_count()} cores)"
    )
    echo(f"  latency p50 {figures['p50_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms")
    echo(f"  floor (one 128-d encoding + 10 face-mesh passes): {figures['floor_ms']:.0f} ms")
    echo(f"  p50 / floor: {figures['ratio_to_floor']:.2f}")
    echo(f"  verified: {figures['verified_share']:.0%} of the genuine sessions")
    return figures
