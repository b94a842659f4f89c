"""How often the check-in pipeline reaches the right verdict, per kind of synthetic session.

Every session kind is generated from the real photos over a matrix of challenges and seeds and
decided by the same `assess` the worker runs, against templates enrolled from other photos of
the person. A genuine session passes when it is verified; a spoof passes when it is rejected
(another person's own genuine session also passes in review, the band a human decides).
Replayed frames are refused before any of this (by content hash) and are covered by the API tests.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from bench.faces import DECODE_LIMITS, enrolment_template, faces_dir
from server.config import Settings
from server.models import CheckinState
from server.services.verification import assess
from worker.face.image import decode_image
from worker.face.liveness import FrameInput
from worker.face.synthetic import (
    SyntheticFrame,
    genuine_session,
    jittered_photo_session,
    out_of_order_session,
    prompts_ignored_session,
    spliced_session,
    still_photo_session,
    tilted_photo_session,
)

CHALLENGES = (
    ["blink", "turn_left"],
    ["turn_right", "open_mouth"],
    ["nod", "blink"],
    ["open_mouth", "turn_left"],
    ["turn_right", "nod"],
    ["blink", "open_mouth", "turn_right"],
    ["nod", "turn_left", "open_mouth"],
    ["turn_left", "blink", "nod"],
)
# Each session's person and the photos of that person enrolled for it (never the session's own photo).
PEOPLE = {
    "obama.jpg": ("obama2.jpg", "obama3.jpg"),
    "obama2.jpg": ("obama.jpg", "obama3.jpg"),
    "obama3.jpg": ("obama.jpg", "obama2.jpg"),
}
OTHER = "biden.jpg"

Maker = Callable[[str, list[str], int], list[SyntheticFrame]]
KINDS: dict[str, tuple[Maker, frozenset[CheckinState]]] = {
    "genuine": (lambda p, a, s: genuine_session(p, a, seed=s), frozenset({CheckinState.VERIFIED})),
    "still_photo": (lambda p, a, s: still_photo_session(p, a), frozenset({CheckinState.REJECTED})),
    "jittered_photo": (lambda p, a, s: jittered_photo_session(p, a, seed=s), frozenset({CheckinState.REJECTED})),
    "tilted_photo": (lambda p, a, s: tilted_photo_session(p, a, seed=s), frozenset({CheckinState.REJECTED})),
    "prompts_ignored": (lambda p, a, s: prompts_ignored_session(p, a, seed=s), frozenset({CheckinState.REJECTED})),
    "out_of_order": (lambda p, a, s: out_of_order_session(p, a, seed=s), frozenset({CheckinState.REJECTED})),
    "another_person": (
        lambda p, a, s: genuine_session(_path(OTHER), a, seed=s),
        frozenset({CheckinState.REJECTED, CheckinState.REVIEW}),
    ),
    "swapped_to_another": (
        lambda p, a, s: spliced_session(p, _path(OTHER), a, seed=s),
        frozenset({CheckinState.REJECTED}),
    ),
    "swapped_from_another": (
        lambda p, a, s: spliced_session(_path(OTHER), p, a, seed=s),
        frozenset({CheckinState.REJECTED}),
    ),
}


def _path(name: str):
    return faces_dir() / name


def run(seeds: int = 2, echo: Callable[[str], None] = print) -> dict[str, dict[str, float]]:
    """Decide every kind over people × challenges × seeds; print and return pass rates and reasons."""
    settings = Settings.from_env()
    templates = {name: enrolment_template(name) for name in {p for photos in PEOPLE.values() for p in photos}}
    results: dict[str, dict[str, float]] = {}
    count = len(PEOPLE) * len(CHALLENGES) * seeds
    echo(f"sessions per kind: {count} ({len(PEOPLE)} photos x {len(CHALLENGES)} challenges x {seeds} seeds)")
    for kind, (make, passing) in KINDS.items():
        verdicts: Counter[str] = Counter()
        reasons: defaultdict[str, int] = defaultdict(int)
        for photo, enrolled in PEOPLE.items():
            for number, actions in enumerate(CHALLENGES):
                for seed in range(seeds):
                    frames = [
                        FrameInput(decode_image(f.jpeg, **DECODE_LIMITS), f.action, f.captured_at)
                        for f in make(_path(photo), actions, 100 * number + seed)
                    ]
                    outcome = assess(frames, actions, [templates[p] for p in enrolled], settings, light=None)
                    verdicts[outcome.state.value] += 1
                    for reason in outcome.reasons:
                        reasons[reason] += 1
        total = sum(verdicts.values())
        rate = sum(verdicts[state.value] for state in passing) / total
        results[kind] = {"pass_rate": rate, **{f"verdict_{k}": v for k, v in verdicts.items()}}
        shown = ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items()))
        why = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])) or "-"
        echo(f"  {kind:22s} pass {rate:6.1%}  verdicts: {shown}  reasons: {why}")
    return results
