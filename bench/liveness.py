"""How the liveness check decides genuine and attack sessions made from every face in a folder.

For each photo, one session of every kind is generated (worker/face/synthetic.py) under its own
challenge (actions and a colour-light sequence from a nonce), decoded and decided by the same
`assess` the worker runs. Genuine sessions are decided clean and degraded (320×240, 40%
brightness, JPEG quality 30, noise σ=15); attacks should never be verified, and those the colour
light stops are tried at 40% brightness too. With one folder per person, the genuine sessions
clean, dimmed and noisy are also claimed as someone else's (`impostor*`: a live relative checking
in for the dead), which only the face match can stop. Photos that cannot be decoded or fail the enrolment
quality check (a face cut off, turned away) are skipped as session sources. The identity is
enrolled from other photos of the same person when the folder holds one sub-folder per person
(as the East Asian development set does: the first five the server would accept, as many as the
field app asks for, or as many as `--enrolled` says, encoded as the enrolment worker encodes
them; photos listed in MISLABELLED, with the reason, are left out), else from the photo itself:
this bench measures liveness, `bench accuracy` and `calibrate` measure matching. With one folder
per person the face match is decided as the product decides it in a county: T-normed against a
cohort of everyone else's enrolment (`verify_checkin` passes the county's gallery, widened to its
region while the county has fewer than `face.cohort_min` people; with fewer than that in all the raw
distance decides, with the stricter `accept_without_cohort`). The same sessions are also tallied as
the raw distance alone decides them (what a deployment that small gets, and what this bench printed
before it used a cohort).

`--videos DIR` decides real recorded clips instead: each clip's frames, tagged as the clip's
sidecar JSON says (see `_clip`).
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from bench.faces import DECODE_LIMITS, faces_dir, photos
from server.config import Settings
from server.services.verification import assess
from worker.face import synthetic
from worker.face.detect import find_faces
from worker.face.encode import encode_enrolment_face, encode_face
from worker.face.image import ImageRejected, decode_image
from worker.face.light import light_sequence
from worker.face.liveness import FrameInput, LightChallenge
from worker.face.matching import decide
from worker.face.quality import assess_enrolment_photo

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
STEP_MS = 700
# Enrolment photos per person: as many as the field app asks for (ENROL_RECOMMENDED in field.js).
ENROLLED_PHOTOS = 5


def _resized(rgb: np.ndarray) -> np.ndarray:
    return cv2.resize(rgb, (320, 240), interpolation=cv2.INTER_AREA)


def _dim(rgb: np.ndarray) -> np.ndarray:
    return (rgb.astype(np.float32) * 0.4).astype(np.uint8)


def _jpeg30(rgb: np.ndarray) -> np.ndarray:
    _, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 30])
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _noisy(rgb: np.ndarray, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, 15.0, rgb.shape)
    return np.clip(rgb.astype(np.float64) + noise, 0, 255).astype(np.uint8)


Maker = Callable[[Path, list[str], int, dict, dict], list[synthetic.SyntheticFrame]]
S = synthetic
# kind -> (session maker, degradation of the decoded frames or None, genuine?)
KINDS: dict[str, tuple[Maker, Callable | None, bool]] = {
    "genuine": (lambda p, a, s, lt, old: S.genuine_session(p, a, seed=s, light=lt), None, True),
    "genuine_320x240": (lambda p, a, s, lt, old: S.genuine_session(p, a, seed=s, light=lt), _resized, True),
    "genuine_dark40": (lambda p, a, s, lt, old: S.genuine_session(p, a, seed=s, light=lt), _dim, True),
    "genuine_jpeg30": (lambda p, a, s, lt, old: S.genuine_session(p, a, seed=s, light=lt), _jpeg30, True),
    "genuine_noise15": (lambda p, a, s, lt, old: S.genuine_session(p, a, seed=s, light=lt), "noise", True),
    "still_photo": (lambda p, a, s, lt, old: S.still_photo_session(p, a, light=lt), None, False),
    "still_tagged": (lambda p, a, s, lt, old: S.tagged_still_session(p, a), None, False),
    "jittered_photo": (lambda p, a, s, lt, old: S.jittered_photo_session(p, a, seed=s, light=lt), None, False),
    "tilted_photo": (lambda p, a, s, lt, old: S.tilted_photo_session(p, a, seed=s, light=lt), None, False),
    "recoloured_photo": (lambda p, a, s, lt, old: S.recoloured_photo_session(p, a, seed=s, light=lt), None, False),
    "printed_bent": (lambda p, a, s, lt, old: S.printed_photo_session(p, a, seed=s, light=lt), None, False),
    "prompts_ignored": (lambda p, a, s, lt, old: S.prompts_ignored_session(p, a, seed=s, light=lt), None, False),
    "animated_photo": (lambda p, a, s, lt, old: S.animated_photo_session(p, a, seed=s, light=lt), None, False),
    "replayed": (
        lambda p, a, s, lt, old: S.replayed_session(p, a, seed=s, recorded=old, light=lt),
        None,
        False,
    ),
    "screen_recording": (lambda p, a, s, lt, old: S.screen_recording_session(p, a, seed=s, light=lt), None, False),
}
# The attacks the colour light stops, in a dim room too (where the genuine sessions' faces fall to 32-39
# grey levels, which the liveness check accepts).
_DIMMED_ATTACKS = ("printed_bent", "animated_photo", "replayed", "screen_recording")
KINDS.update({f"{name}_dark40": (KINDS[name][0], _dim, False) for name in _DIMMED_ATTACKS})
# A live person checking in under someone else's identity (a relative, for the dead): the genuine
# session of one person's photo, claimed as another's. Liveness passes; only the face match stops it.
IMPOSTORS = {f"impostor{degraded}": f"genuine{degraded}" for degraded in ("", "_dark40", "_noise15")}
KINDS.update({name: (KINDS[source][0], KINDS[source][1], False) for name, source in IMPOSTORS.items()})


# Reasons that come from the face match alone: without a cohort the raw distance decides them instead.
_MATCH_REASONS = ("face_uncertain", "face_mismatch")
_STATES = {"accept": "verified", "review": "review", "reject": "rejected"}


@dataclass
class _Tally:
    verdicts: Counter
    reasons: Counter

    def line(self, kind: str) -> str:
        total = sum(self.verdicts.values()) or 1
        shown = "  ".join(f"{s} {self.verdicts[s]:3d}" for s in ("verified", "review", "rejected"))
        why = ", ".join(f"{k} {v}" for k, v in self.reasons.most_common()) or "-"
        return f"  {kind:23s} {shown}  ({self.verdicts['verified'] / total:6.1%} verified)  reasons: {why}"


def _without_cohort(state: str, reasons: list[str], scores: dict, settings: Settings) -> tuple[str, list[str]]:
    """The verdict and reasons had the raw fused distance decided the match (no cohort), all else as assess does."""
    if "distance" not in scores:
        return state, reasons
    uncertain = [r for r in reasons if r not in _MATCH_REASONS]
    verdict = _STATES[decide(scores["distance"], None, settings.face.limits)[0]]
    match_reasons = {"verified": [], "review": ["face_uncertain"], "rejected": ["face_mismatch"]}[verdict]
    if uncertain and verdict != "rejected":
        return "review", [*uncertain, *match_reasons]
    return verdict, match_reasons


# Photos of the East Asian development set filed under a person they do not show (looked at face
# by face: each is as far from every other photo of its folder as strangers are, and is visibly
# someone else). Left out as session sources, enrolment photos and cohort members alike: a
# genuine check-in against another person's photo measures the labels, not the product.
MISLABELLED = {
    "cn_t110/110_16.jpg": "another man: 0.53-0.62 from the folder's other three photos, which agree (0.37-0.45)",
    "cn_t113/113_12.jpg": "another man: 0.49-0.53 from the folder's other three photos, which agree (0.31-0.36)",
}


def _mislabelled(path: Path) -> bool:
    return f"{path.parent.name}/{path.name}" in MISLABELLED


def _by_person(folder: Path) -> dict[Path, list[Path]]:
    by_person: dict[Path, list[Path]] = defaultdict(list)
    for path in photos(folder):
        if not _mislabelled(path):
            by_person[path.parent].append(path)
    return by_person


def _people(folder: Path, limit: int | None) -> list[tuple[Path, list[Path]]]:
    """(session photo, candidate enrolment photos) pairs: the person's other photos when the folder has one
    folder per person, in order (the first that give a template are enrolled), else the photo itself."""
    by_person = _by_person(folder)
    pairs = []
    nested = len(by_person) > 1
    for members in by_person.values():
        for path in members:
            enrolled = [m for m in members if m != path] if nested else []
            pairs.append((path, enrolled or [path]))
    return _spread(pairs, list(by_person), limit) if limit else pairs


def _enrolment(candidates: list[Path], count: int) -> list[np.ndarray]:
    """The templates of the first `count` photos that give one, as a field worker enrols photos the server
    accepts (a GIF or BMP is refused at upload, and another photo taken)."""
    templates = []
    for path in candidates:
        template = _template(path)
        if template is not None:
            templates.append(template)
        if len(templates) == count:
            break
    return templates


def _cohorts(folder: Path, count: int) -> dict[Path, np.ndarray]:
    """Each person's enrolment as the county's gallery holds it (`count` usable photos), by folder; {} if flat."""
    by_person = _by_person(folder)
    if len(by_person) < 2:
        return {}
    enrolled = {}
    for person, members in by_person.items():
        vectors = _enrolment(members, count)
        if vectors:
            enrolled[person] = np.stack(vectors)
    return enrolled


def _claimed(person: Path, number: int, gallery: dict[Path, np.ndarray]) -> Path | None:
    """Whose identity the impostor session of the `number`th photo claims: each other person in turn."""
    others = [p for p in gallery if p != person]
    return others[number % len(others)] if others else None


def _spread(pairs: list[tuple[Path, list[Path]]], people: list[Path], limit: int) -> list[tuple[Path, list[Path]]]:
    """At most `limit` pairs, taking people in turn rather than the first few people's every photo."""
    queues = [[p for p in pairs if p[0].parent == person] for person in people]
    out = []
    while len(out) < limit and any(queues):
        for queue in queues:
            if queue and len(out) < limit:
                out.append(queue.pop(0))
    return out


def _template(path: Path) -> np.ndarray | None:
    """The photo's enrolment template, as the enrolment worker encodes it; None if the server would refuse it."""
    try:
        rgb = decode_image(path.read_bytes(), **DECODE_LIMITS)
    except ImageRejected:
        return None
    faces = find_faces(rgb)
    return encode_enrolment_face(rgb, faces[0].box) if faces else None


def run(
    faces: Path | None = None,
    *,
    limit: int | None = None,
    kinds: list[str] | None = None,
    dump: Path | None = None,
    enrolled_photos: int = ENROLLED_PHOTOS,
    echo: Callable[[str], None] = print,
) -> dict[str, dict]:
    """Decide every kind for every face of the folder; print and return verdict counts, reasons and timing.

    `enrolled_photos` is how many of a person's other photos are enrolled (everyone's, the cohort's too).

    `dump` names a JSON-lines file that gets one line per decided session (kind, photo, state,
    reasons, scores), for finding out why sessions of a kind failed.
    """
    folder = faces_dir(faces)
    settings = Settings.from_env()
    chosen = {k: v for k, v in KINDS.items() if not kinds or k in kinds}
    tallies = {kind: _Tally(Counter(), Counter()) for kind in chosen}
    raw_tallies = {kind: _Tally(Counter(), Counter()) for kind in chosen}
    decide_times: list[float] = []
    frame_counts: list[int] = []
    skipped = 0
    pairs = _people(folder, limit)
    gallery = _cohorts(folder, enrolled_photos)
    accept_raw = settings.face.accept_without_cohort
    others = max(len(gallery) - 1, 0)
    cohort_note = "" if others >= settings.face.cohort_min else f" (under {settings.face.cohort_min}: raw distance)"
    echo(
        f"faces: {len(pairs)} photos from {folder}; face match T-normed against a cohort of "
        f"{others} other people's enrolment{cohort_note}"
    )
    left_out = [p for p in photos(folder) if _mislabelled(p)]
    if left_out:
        echo(f"  ({len(left_out)} photos left out as filed under the wrong person: bench/liveness.py MISLABELLED)")
    unusable = 0
    sessions = dump.open("w") if dump is not None else None
    for number, (photo, enrolled) in enumerate(pairs):
        try:
            usable = assess_enrolment_photo(decode_image(photo.read_bytes(), **DECODE_LIMITS)).ok
        except ImageRejected:
            usable = False
        if not usable:
            # A live face in front of the phone is whole and frontal enough to enrol; a photo cut
            # off at the border or turned away is no source for one.
            unusable += 1
            continue
        templates = _enrolment(enrolled, enrolled_photos)
        cohort = [t for person, t in gallery.items() if person != photo.parent]
        actions = CHALLENGES[number % len(CHALLENGES)]
        colours = light_sequence(f"bench-{number}")
        light = {"colours": list(colours), "step_ms": STEP_MS}
        old = {"colours": list(light_sequence(f"bench-old-{number}")), "step_ms": STEP_MS}
        challenge = LightChallenge(colours, STEP_MS)
        claimed = _claimed(photo.parent, number, gallery)
        # The stranger is not on the county's roll: neither person is in the impostor claim's cohort.
        strangers = [t for person, t in gallery.items() if person not in (photo.parent, claimed)]
        as_stranger = (list(gallery[claimed]), strangers) if claimed is not None else None
        for kind, (make, degrade, _genuine) in chosen.items():
            if kind in IMPOSTORS and as_stranger is None:
                continue
            try:
                session = make(photo, actions, number, light, old)
            except ValueError:
                # The generator found no face to animate in this photo.
                skipped += 1
                break
            rgbs = synthetic.decoded(session)
            if degrade == "noise":
                rgbs = [_noisy(rgb, 1000 * number + i) for i, rgb in enumerate(rgbs)]
            elif degrade is not None:
                rgbs = [degrade(rgb) for rgb in rgbs]
            frames = [FrameInput(rgb, f.action, f.captured_at, f.colour) for rgb, f in zip(rgbs, session, strict=True)]
            enrolled_as, against = as_stranger if kind in IMPOSTORS else (templates, cohort)
            start = time.perf_counter()
            outcome = assess(frames, actions, enrolled_as, settings, light=challenge, cohort=against)
            elapsed = time.perf_counter() - start
            if kind == "genuine":
                decide_times.append(elapsed)
                frame_counts.append(len(frames))
            tallies[kind].verdicts[outcome.state.value] += 1
            tallies[kind].reasons.update(outcome.reasons)
            state, reasons = _without_cohort(outcome.state.value, outcome.reasons, outcome.scores, settings)
            raw_tallies[kind].verdicts[state] += 1
            raw_tallies[kind].reasons.update(reasons)
            if sessions is not None:
                line = {"kind": kind, "photo": str(photo), "state": outcome.state.value, "reasons": outcome.reasons}
                sessions.write(json.dumps({**line, "scores": outcome.scores}, default=str) + "\n")
                sessions.flush()
    if sessions is not None:
        sessions.close()
    if unusable:
        echo(f"  ({unusable} photos skipped: undecodable, or failing the enrolment quality check, e.g. a face cut off)")
    if skipped:
        echo(f"  ({skipped} photos skipped: no face for the generator)")
    results: dict[str, dict] = {}
    for kind, tally in tallies.items():
        echo(tally.line(kind))
        results[kind] = {"verdicts": dict(tally.verdicts), "reasons": dict(tally.reasons)}
    if gallery:
        echo(f"  the same sessions with the match decided on the raw distance (no cohort, accept <= {accept_raw:.2f}):")
        for kind, tally in raw_tallies.items():
            echo(tally.line(kind))
            results[f"{kind}_without_cohort"] = {"verdicts": dict(tally.verdicts), "reasons": dict(tally.reasons)}
    if decide_times:
        results["timing"] = _timing(folder, pairs[0][0], decide_times, frame_counts, echo)
    return results


def _timing(folder: Path, photo: Path, times: list[float], counts: list[int], echo) -> dict[str, float]:
    """Time per decided genuine check-in against the floor: one mesh pass per frame and one 128-d encoding."""
    frame = synthetic.decoded(synthetic.genuine_session(photo, ["blink", "nod"], seed=0)[:1])[0]
    box = find_faces(frame)[0].box
    mesh_s = float(np.median([_timed(lambda: find_faces(frame)) for _ in range(20)]))
    encode_s = float(np.median([_timed(lambda: encode_face(frame, box)) for _ in range(10)]))
    frames = float(np.median(counts))
    floor = frames * mesh_s + encode_s
    p50 = float(np.median(times))
    echo(
        f"  time per decided check-in: p50 {1000 * p50:.0f} ms for {frames:.0f} frames; floor "
        f"{1000 * floor:.0f} ms ({frames:.0f} x detection+mesh {1000 * mesh_s:.1f} ms + one encoding "
        f"{1000 * encode_s:.1f} ms); ratio {p50 / floor:.2f}"
    )
    return {"p50_ms": 1000 * p50, "floor_ms": 1000 * floor, "ratio": p50 / floor}


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run_videos(videos: Path, faces: Path | None = None, echo: Callable[[str], None] = print) -> dict[str, dict]:
    """Decide real recorded clips: each CLIP.(mp4|avi|mov|y4m) with a CLIP.json beside it.

    The JSON names the challenge as the phone had it and what each frame was: {"actions": [...],
    "light": {"colours": [...], "step_ms": 700} or null, "enrolled": ["photo.jpg", ...] (paths
    relative to --faces, optional), "frames": [{"index": 12, "action": "blink" | null,
    "colour": "#ff0000" | null}, ...]} (frame indices in the clip; their times come from the clip).
    """
    settings = Settings.from_env()
    results = {}
    for sidecar in sorted(videos.glob("*.json")):
        spec = json.loads(sidecar.read_text())
        clip = next((p for p in videos.glob(sidecar.stem + ".*") if p.suffix != ".json"), None)
        if clip is None:
            continue
        frames = _clip(clip, spec)
        enrolled = [faces_dir(faces) / p for p in spec.get("enrolled", [])]
        templates = [t for t in (_template(p) for p in enrolled) if t is not None]
        light = spec.get("light")
        challenge = LightChallenge(tuple(light["colours"]), int(light["step_ms"])) if light else None
        outcome = assess(frames, spec["actions"], templates, settings, light=challenge)
        echo(f"  {clip.name}: {outcome.state.value}  reasons: {', '.join(outcome.reasons) or '-'}")
        results[clip.name] = {"state": outcome.state.value, "reasons": outcome.reasons, "scores": outcome.scores}
    return results


def _clip(clip: Path, spec: dict) -> list[FrameInput]:
    capture = cv2.VideoCapture(str(clip))
    fps = capture.get(cv2.CAP_PROP_FPS) or 10.0
    wanted = {entry["index"]: entry for entry in spec["frames"]}
    frames, index = [], 0
    while wanted:
        ok, bgr = capture.read()
        if not ok:
            break
        entry = wanted.pop(index, None)
        if entry is not None:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            frames.append(FrameInput(rgb, entry.get("action"), index / fps, entry.get("colour")))
        index += 1
    capture.release()
    return frames
