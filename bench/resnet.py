"""Face descriptor time on one core: dlib's network vs the numpy port (worker/face/resnet.py).

Run as `python -m bench.resnet [rounds]`. BLAS and OpenMP are held to one thread and the process is pinned to
one CPU, so both sides get one core; dlib and the port are timed alternately in the same rounds, so load from
other work on the machine hits both alike.
"""

from __future__ import annotations

import os

# Must happen before numpy (and OpenBLAS) is loaded.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402

import dlib  # noqa: E402
import face_recognition.api as fr_api  # noqa: E402
import numpy as np  # noqa: E402

from bench.faces import DECODE_LIMITS  # noqa: E402
from bench.faces import photo as photo_bytes  # noqa: E402
from worker.face.detect import detect_faces  # noqa: E402
from worker.face.image import decode_image  # noqa: E402
from worker.face.resnet import FaceDescriptorNet  # noqa: E402

BATCH_SIZES = (1, 2, 3)
PHOTOS = ("obama.jpg", "obama2.jpg", "biden.jpg")


def _chip(name: str) -> np.ndarray:
    """The aligned 150 px chip face_recognition feeds the network for the photo's largest face."""
    rgb = decode_image(photo_bytes(name), **DECODE_LIMITS)
    box = detect_faces(rgb)[0]
    shape = fr_api.pose_predictor_5_point(rgb, dlib.rectangle(box.left, box.top, box.right, box.bottom))
    return dlib.get_face_chip(rgb, shape, 150, 0.25)


def _seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(rounds: int = 15) -> None:
    """Print median ms per descriptor for dlib and the port at each batch size, and the largest difference."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    start = time.perf_counter()
    net = FaceDescriptorNet()
    load_ms = (time.perf_counter() - start) * 1000
    chips = np.stack([_chip(name) for name in PHOTOS])

    def dlib_describe(batch: np.ndarray) -> np.ndarray:
        return np.array(fr_api.face_encoder.compute_face_descriptor(list(batch)))

    diff = np.abs(net.describe(chips) - dlib_describe(chips)).max()
    times: dict[tuple[str, int], list[float]] = {}
    for _ in range(rounds):
        for size in BATCH_SIZES:
            batch = chips[:size]
            for label, fn in (("dlib", dlib_describe), ("port", net.describe)):
                times.setdefault((label, size), []).append(_seconds(lambda fn=fn, batch=batch: fn(batch)) / size)

    print(f"one core (CPU {min(os.sched_getaffinity(0))}, BLAS threads 1), {rounds} rounds, median ms per descriptor")
    print(f"port model load: {load_ms:.0f} ms; max |port - dlib| over {len(chips)} chips: {diff:.2e}")
    print(f"{'batch':>5} {'dlib':>8} {'port':>8} {'speed-up':>8}")
    for size in BATCH_SIZES:
        dlib_ms = statistics.median(times["dlib", size]) * 1000
        port_ms = statistics.median(times["port", size]) * 1000
        print(f"{size:>5} {dlib_ms:>8.1f} {port_ms:>8.1f} {dlib_ms / port_ms:>7.1f}x")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))
