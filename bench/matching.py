"""How well dlib's 128-d model tells East Asian faces apart: single pairs, fused check-ins, duplicates.

The set is one folder per person (the development set `asian-faces` by default). Every photo is
encoded once (a photo in which the face mesh finds no face is a failure to enrol: it counts as
a reject in every comparison it is part of) together with light augmentations of it that stand in
for further frames of a session (darker and brighter exposure, blur with JPEG recompression, a few
degrees of roll). Faces are found as enrolment and check-ins find them: the face mesh on every
photo and on every frame afresh (worker/face/detect.py), the box placed from its landmarks, never
HOG; a frame in which it finds no face is left out of its session, as a check-in leaves it out.

- **Pairs**: every two photos, same folder = genuine, different folders = impostor.
- **Check-ins**: for each photo of a person, a session of that photo's frames (and, in the
  "two occasions" variant, the next photo's too) against templates = up to 5 of the person's other
  photos (the enrolment limit), encoded as enrolment encodes them (averaged with the mirror image,
  `encode_enrolment_face`) while frames are encoded as a check-in encodes them; impostor
  check-ins are the same sessions against every other person's templates. Each fusion of the
  frames × templates distances is scored, and so is its T-norm against the gallery of everyone
  else (the county's other enrolled people).
- **Duplicates**: each person enrolled twice under two identities (photos split in halves) among
  everyone else; the second enrolment searches the gallery.
- **Alignment**: the descriptors of the product's path (mesh box, dlib's 5-point alignment) against
  those of dlib's own path (HOG box, the same alignment), beside what dlib's path itself moves when
  the photo moves by one pixel, and the pair EER of each path.

The thresholds that "FRR at FAR 0.1 %" uses are chosen on the very comparisons they are reported
on (an oracle): on a set this small, read them as the best the model can do, not a guarantee.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from bench.faces import DECODE_LIMITS
from server.config import Settings
from worker.face.detect import FaceBox, detect_faces
from worker.face.encode import encode_faces
from worker.face.image import ImageRejected, decode_image
from worker.face.matching import (
    DEFAULT_FUSION,
    FUSIONS,
    Thresholds,
    decide,
    duplicate_candidates,
    fuse,
    pairwise_distances,
    t_norm,
)
from worker.face.models import face_models

DEFAULT_FACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "asian-faces"
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
MAX_TEMPLATES = 5
TARGET_FAR = 0.001
MAX_CANDIDATES = 3
MISSING = math.inf  # the score of a comparison that has no face on one side: never accepted


@dataclass
class Person:
    name: str
    photos: list[np.ndarray | None]  # one descriptor per photo as a check-in frame is encoded, None: no face
    frames: list[list[np.ndarray]]  # per photo: its augmented copies' descriptors
    # Per photo: its template as enrolment encodes it (with the mirror image), None where no face was found.
    templates: list[np.ndarray | None]


def _augmentations(rgb: np.ndarray, box) -> list[np.ndarray]:
    darker = np.clip(255.0 * (rgb / 255.0) ** 1.6, 0, 255).astype(np.uint8)
    brighter = np.clip(rgb.astype(np.float32) * 1.25 + 12, 0, 255).astype(np.uint8)
    blurred = cv2.GaussianBlur(rgb, (5, 5), 1.2)
    ok, jpeg = cv2.imencode(".jpg", blurred[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 55])
    recompressed = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)[:, :, ::-1] if ok else blurred
    centre = ((box.left + box.right) / 2, (box.top + box.bottom) / 2)
    rolled = cv2.warpAffine(
        rgb, cv2.getRotationMatrix2D(centre, 6.0, 1.0), (rgb.shape[1], rgb.shape[0]), borderMode=cv2.BORDER_REFLECT
    )
    return [darker, brighter, np.ascontiguousarray(recompressed), rolled]


def _read(path: Path) -> np.ndarray:
    data = path.read_bytes()
    try:
        return decode_image(data, **DECODE_LIMITS)
    except ImageRejected as exc:
        if exc.code != "unsupported_format":
            raise
    # A few of the set's files are BMPs named .jpg: a phone never sends those, but the face counts.
    with Image.open(io.BytesIO(data)) as image:
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG")
    return decode_image(buffer.getvalue(), **DECODE_LIMITS)


def load(folder: Path, echo: Callable[[str], None]) -> list[Person]:
    """Encode every photo of the set once, with its augmented frames."""
    people = []
    folders = sorted(p for p in folder.iterdir() if p.is_dir())
    missed = 0
    for person_dir in folders:
        photos: list[np.ndarray | None] = []
        frames: list[list[np.ndarray]] = []
        templates: list[np.ndarray | None] = []
        for path in sorted(p for p in person_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            rgb = _read(path)
            boxes = detect_faces(rgb)
            if not boxes:
                missed += 1
                photos.append(None)
                frames.append([])
                templates.append(None)
                continue
            found = [(rgb, boxes[0])]
            for frame in _augmentations(rgb, boxes[0]):
                seen = detect_faces(frame)
                if seen:
                    found.append((frame, seen[0]))
            vectors = encode_faces(found)
            photos.append(vectors[0])
            frames.append(list(vectors[1:]))
            templates.append(encode_faces(found[:1], mirrored=True)[0])
        people.append(Person(person_dir.name, photos, frames, templates))
    total = sum(len(p.photos) for p in people)
    echo(
        f"set: {folder.resolve()}: {len(people)} people, {total} photos, no face found in {missed} (failures to enrol)"
    )
    return people


# ---- rates ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rates:
    genuine: np.ndarray
    impostor: np.ndarray

    def far(self, threshold: float) -> float:
        return float((self.impostor <= threshold).mean())

    def frr(self, threshold: float) -> float:
        return float((self.genuine > threshold).mean())

    def eer(self) -> tuple[float, float]:
        """Equal error rate and the threshold where FAR and FRR cross."""
        finite = np.concatenate([self.genuine, self.impostor])
        grid = np.unique(finite[np.isfinite(finite)])
        gaps = [(abs(self.far(t) - self.frr(t)), t) for t in grid]
        _, t = min(gaps)
        return (self.far(t) + self.frr(t)) / 2, float(t)

    def at_far(self, target: float) -> tuple[float, float, int, int]:
        """(threshold, FRR, impostor comparisons, impostors accepted) at the loosest threshold within target."""
        ranked = np.sort(self.impostor)
        allowed = math.floor(target * ranked.size)
        # Accept strictly below the (allowed+1)-th closest impostor.
        threshold = float(np.nextafter(ranked[allowed], -np.inf)) if allowed < ranked.size else math.inf
        return threshold, self.frr(threshold), int(ranked.size), int((ranked <= threshold).sum())


def _at_far_line(rates: Rates, target: float = TARGET_FAR) -> str:
    threshold, frr, count, accepted = rates.at_far(target)
    needed = math.ceil(3 / target)
    resolved = (
        f"resolved: {count} >= {needed} impostor comparisons"
        if count >= needed
        else f"NOT resolved: {count} impostor comparisons, {needed} needed"
    )
    return (
        f"FRR at FAR {target:.1%}: {frr:6.1%} (threshold {threshold:.4f}, "
        f"{accepted} of {count} impostors accepted; {resolved})"
    )


def _report(label: str, rates: Rates, settings: Settings, echo: Callable[[str], None]) -> None:
    accept, review = settings.face.accept, settings.face.review
    eer, at = rates.eer()
    g, i = rates.genuine, rates.impostor
    echo(f"  {label}: {g.size} genuine, {i.size} impostor")
    echo(f"    EER {eer:6.2%} at {at:.3f}")
    echo(
        f"    at accept {accept:.2f} / review {review:.2f}: impostors verified {rates.far(accept):.2%}, "
        f"in review {float(((i > accept) & (i <= review)).mean()):.2%}; genuine verified {1 - rates.frr(accept):.1%}, "
        f"in review {float(((g > accept) & (g <= review)).mean()):.1%}, rejected {rates.frr(review):.1%}"
    )
    echo(f"    {_at_far_line(rates)}")


# ---- pairs ---------------------------------------------------------------------------------


def pair_rates(people: list[Person], *, enrolled: bool = False) -> Rates:
    """Every two photos of the set; a photo without a face makes every pair it is in a reject.

    `enrolled`: one side of each pair is the photo's enrolment template (and each ordered pair
    counts), as a check-in frame meets an enrolment; else both sides are encoded alike.
    """
    owners = np.array([n for n, p in enumerate(people) for _ in p.photos])
    found = np.array([v is not None for p in people for v in p.photos])
    vectors = np.stack([v if v is not None else np.zeros(128) for p in people for v in p.photos])
    templates = np.stack([v if v is not None else np.zeros(128) for p in people for v in p.templates])
    d = pairwise_distances(vectors, templates if enrolled else vectors)
    d[~found, :] = MISSING
    d[:, ~found] = MISSING
    pairs = np.nonzero(~np.eye(len(vectors), dtype=bool)) if enrolled else np.triu_indices(len(vectors), k=1)
    same = owners[pairs[0]] == owners[pairs[1]]
    scores = d[pairs]
    return Rates(scores[same], scores[~same])


# ---- check-ins -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    person: int
    probe_photos: tuple[int, ...]
    frames: np.ndarray | None  # (F, 128), None when no probe photo had a face


def _templates(person: Person, excluding: tuple[int, ...], start: int = 0) -> np.ndarray:
    """Up to MAX_TEMPLATES of the person's encoded photos, taken in turn from `start`, never the probes."""
    n = len(person.photos)
    chosen = []
    for step in range(n):
        index = (start + step) % n
        if index not in excluding and person.templates[index] is not None:
            chosen.append(person.templates[index])
        if len(chosen) == MAX_TEMPLATES:
            break
    return np.stack(chosen) if chosen else np.empty((0, 128))


def sessions(people: list[Person], occasions: int) -> list[Session]:
    """One session per photo: its frames (and the next photos' for more occasions)."""
    out = []
    for number, person in enumerate(people):
        n = len(person.photos)
        if n < occasions + 1:
            continue
        for first in range(n):
            probes = tuple((first + k) % n for k in range(occasions))
            frames = [v for i in probes if person.photos[i] is not None for v in (person.photos[i], *person.frames[i])]
            out.append(Session(number, probes, np.stack(frames) if frames else None))
    return out


@dataclass(frozen=True)
class CheckinScores:
    fused: dict[str, tuple[np.ndarray, np.ndarray]]  # fusion -> (genuine, impostor)
    # fusion -> T-normed (genuine, impostor enrolled in the county, impostor from outside it)
    normalised: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    # The product's verdicts (decide) with the default fusion: (genuine, enrolled, outside) -> counts
    verdicts: tuple[Counter[str], Counter[str], Counter[str]]


def checkin_scores(people: list[Person], runs: list[Session], limits: Thresholds) -> CheckinScores:
    """Fuse each session against its person's templates (genuine) and everyone else's (impostor).

    T-norm: the claimed identity's fused distance in standard deviations from the session's fused
    distances to the rest of the gallery. An impostor enrolled in the county is in that cohort
    (a relative or neighbour); one from outside is not, which leaves the cohort less spread.
    """
    genuine: dict[str, list[float]] = {name: [] for name in FUSIONS}
    impostor: dict[str, list[float]] = {name: [] for name in FUSIONS}
    norm: dict[str, tuple[list[float], list[float], list[float]]] = {name: ([], [], []) for name in FUSIONS}
    enrolled = [_templates(p, ()) for p in people]
    others = len(people) - 1
    verdicts: tuple[Counter[str], Counter[str], Counter[str]] = (Counter(), Counter(), Counter())
    for run in runs:
        own = _templates(people[run.person], run.probe_photos, start=run.probe_photos[-1] + 1)
        # The county's gallery as this session meets it: everyone's enrolment, the probes never in it.
        gallery = [own if n == run.person else enrolled[n] for n in range(len(people))]
        if run.frames is None:
            for name in FUSIONS:
                genuine[name].append(MISSING)
                impostor[name].extend([MISSING] * others)
                norm[name][0].append(MISSING)
                norm[name][1].extend([MISSING] * others)
                norm[name][2].extend([MISSING] * others)
            # No face in any frame: liveness rejects the session before any match.
            verdicts[0]["reject"] += 1
            verdicts[1]["reject"] += others
            verdicts[2]["reject"] += others
            continue
        matrices = [pairwise_distances(run.frames, t) for t in gallery]
        for name in FUSIONS:
            scores = np.array([fuse(m, name) for m in matrices])
            genuine[name].append(float(scores[run.person]))
            impostor[name].extend(float(s) for n, s in enumerate(scores) if n != run.person)
            for claimed, score in enumerate(scores):
                cohort = np.delete(scores, claimed)
                if claimed == run.person:
                    norm[name][0].append(float(t_norm(score, cohort)))
                    continue
                norm[name][1].append(float(t_norm(score, cohort)))
                outside = np.delete(scores, [claimed, run.person])
                norm[name][2].append(float(t_norm(score, outside)))
        scores = np.array([fuse(m, DEFAULT_FUSION) for m in matrices])
        for claimed, score in enumerate(scores):
            if claimed == run.person:
                verdicts[0][decide(score, np.delete(scores, claimed), limits)[0]] += 1
            else:
                verdicts[1][decide(score, np.delete(scores, claimed), limits)[0]] += 1
                verdicts[2][decide(score, np.delete(scores, [claimed, run.person]), limits)[0]] += 1
    return CheckinScores(
        {name: (np.array(genuine[name]), np.array(impostor[name])) for name in FUSIONS},
        {name: tuple(np.array(side) for side in norm[name]) for name in FUSIONS},
        verdicts,
    )


def _verdict_line(label: str, counts: Counter[str]) -> str:
    total = sum(counts.values())
    return f"{label} verified {counts['accept'] / total:.2%}, review {counts['review'] / total:.1%}, " + (
        f"rejected {counts['reject'] / total:.1%}"
    )


# ---- duplicates ----------------------------------------------------------------------------


def duplicate_search(people: list[Person], max_candidates: int = MAX_CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
    """Each person enrolled twice (photos split in halves) among everyone else's enrolment.

    Returns, per enrolment, the T-normed score of the true duplicate and those of every other
    gallery identity (a (people, people - 1) array), where an identity's raw score is the worst of
    the new photos' closest distances to it: all of the new person's photos must agree.
    """
    true_scores, other_scores = [], []
    enrolled = [_templates(p, ()) for p in people]
    for number, person in enumerate(people):
        encoded = [i for i, v in enumerate(person.templates) if v is not None]
        first = np.stack([person.templates[i] for i in encoded[0::2][:MAX_TEMPLATES]])
        second = np.stack([person.templates[i] for i in encoded[1::2][:MAX_TEMPLATES]])
        gallery = [first if n == number else enrolled[n] for n in range(len(people))]
        raw = np.array([pairwise_distances(second, t).min(axis=1).max() for t in gallery])
        normed = (raw - raw.mean()) / raw.std()
        true_scores.append((raw[number], normed[number]))
        other_scores.append(np.stack([np.delete(raw, number), np.delete(normed, number)], axis=1))
    return np.array(true_scores), np.stack(other_scores)


def _product_search(
    people: list[Person], settings: Settings, *, norm_threshold: float
) -> tuple[int, list[int], list[int]]:
    """The product's duplicate_candidates: true duplicates found, false candidates per enrolment
    with the duplicate enrolled and without it (a new person nobody enrolled before)."""
    face = settings.face
    found, false_with, false_without = 0, [], []
    enrolled = [_templates(p, ()) for p in people]
    for number, person in enumerate(people):
        encoded = [v for v in person.templates if v is not None]
        first, second = np.stack(encoded[0::2][:MAX_TEMPLATES]), np.stack(encoded[1::2][:MAX_TEMPLATES])
        for with_first in (True, False):
            gallery = [(n, first if n == number else enrolled[n]) for n in range(len(people))]
            if not with_first:
                gallery = [(n, t) for n, t in gallery if n != number]
            owners = [n for n, t in gallery for _ in range(len(t))]
            listed = duplicate_candidates(
                second,
                np.concatenate([t for _, t in gallery]),
                owners,
                norm_threshold=norm_threshold,
                raw_threshold=face.duplicate,
                max_candidates=face.max_duplicate_candidates,
                cohort_min=face.cohort_min,
            )
            false = sum(1 for c in listed if c.owner != number)
            if with_first:
                found += any(c.owner == number for c in listed)
                false_with.append(false)
            else:
                false_without.append(false)
    return found, false_with, false_without


def _duplicate_report(people: list[Person], settings: Settings, echo: Callable[[str], None]) -> None:
    true_scores, others = duplicate_search(people)
    n = len(people)
    imp_raw, imp_norm = others[:, :, 0].ravel(), others[:, :, 1].ravel()
    echo(f"duplicates: {n} people each enrolled twice among {n - 1} others ({imp_raw.size} stranger comparisons)")
    echo("  score = worst of the new photos' closest distances to a gallery identity (all photos agree)")
    face = settings.face
    old_rate = float((imp_raw <= face.duplicate).mean())
    echo(
        f"  before (every template <= {face.duplicate:.2f} opens a case): {old_rate:.2%} of stranger identities "
        f"under it = {old_rate * 10_000:.0f} cases per enrolment in a county of 10,000"
    )
    for threshold in sorted({face.norm_duplicate, -2.0, -2.5, -3.0}):
        found, false_with, false_without = _product_search(people, settings, norm_threshold=threshold)
        stranger = float((imp_norm <= threshold).mean())
        echo(
            f"  ranked search, T-norm <= {threshold:.2f}{' (configured)' if threshold == face.norm_duplicate else ''}: "
            f"recall {found / n:.1%} ({found}/{n}); false candidates per enrolment {np.mean(false_with):.2f} "
            f"(duplicate enrolled), {np.mean(false_without):.2f} (new person); stranger identities under it "
            f"{stranger:.2%} of {imp_norm.size}"
        )
    _extrapolate(true_scores[:, 1], imp_norm, echo)


def _extrapolate(true_norm: np.ndarray, impostor_norm: np.ndarray, echo: Callable[[str], None]) -> None:
    """False candidates and recall for galleries of N, from a normal fitted to the stranger scores.

    The measured comparisons cannot reach rates of 1e-5 and below, so the tail is the fitted
    normal's: an estimate to plan with, not a measurement.
    """
    from statistics import NormalDist

    fitted = NormalDist(float(impostor_norm.mean()), float(impostor_norm.std()))
    echo(
        f"  extrapolation (T-norm scores; strangers fitted as N({fitted.mean:.2f}, {fitted.stdev:.2f}), "
        f"true duplicates median {float(np.median(true_norm)):.2f}):"
    )
    for size in (10_000, 100_000, 1_000_000):
        for per_enrolment in (0.1, 1.0):
            # The threshold at which N strangers give `per_enrolment` false candidates on average.
            rate = per_enrolment / size
            threshold = fitted.inv_cdf(rate)
            recall = float((true_norm <= threshold).mean())
            echo(
                f"    N={size:>9,}: {per_enrolment:.1f} false candidates per enrolment needs T-norm <= {threshold:.2f} "
                f"(stranger rate {rate:.0e}); recall of true duplicates there {recall:.0%}"
            )


# ---- alignment -----------------------------------------------------------------------------


def _hog_box(rgb: np.ndarray) -> FaceBox | None:
    """dlib's HOG box when it finds exactly one face (upsampled once on images small enough)."""
    upsample = 1 if rgb.shape[0] * rgb.shape[1] <= 700_000 else 0
    found = face_models().face_locations(rgb, number_of_times_to_upsample=upsample, model="hog")
    return FaceBox(*found[0]) if len(found) == 1 else None


def _alignment_report(folder: Path, echo: Callable[[str], None]) -> None:
    """How far the mesh-placed box moves the descriptors from dlib's HOG path, against that path's own noise."""
    owners, mesh_vectors, hog_vectors, moved = [], [], [], []
    for person_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in sorted(p for p in person_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            rgb = _read(path)
            boxes = detect_faces(rgb)
            hog = _hog_box(rgb)
            # The same photo one pixel to the right and down (the edge repeated).
            shifted = np.ascontiguousarray(np.pad(rgb, ((1, 0), (1, 0), (0, 0)), mode="edge")[:-1, :-1])
            hog_shifted = _hog_box(shifted)
            if len(boxes) != 1 or hog is None or hog_shifted is None:
                continue
            vectors = encode_faces([(rgb, boxes[0]), (rgb, hog), (shifted, hog_shifted)])
            owners.append(person_dir.name)
            mesh_vectors.append(vectors[0])
            hog_vectors.append(vectors[1])
            moved.append(float(np.linalg.norm(vectors[2] - vectors[1])))
    if not owners:
        return
    mesh, hog = np.stack(mesh_vectors), np.stack(hog_vectors)
    apart = np.linalg.norm(mesh - hog, axis=1)
    echo(f"alignment: {len(owners)} photos where the mesh and HOG each find one face")
    for label, values in (
        ("mesh box vs HOG box, same photo", apart),
        ("HOG box vs HOG box, the photo moved 1 px (dlib's own noise)", np.array(moved)),
    ):
        echo(
            f"  {label}: descriptor distance median {np.median(values):.4f}, p90 {np.percentile(values, 90):.4f}, "
            f"within 0.01: {(values <= 0.01).mean():.0%}"
        )
    labels = np.array(owners)
    upper = np.triu_indices(len(labels), k=1)
    same = labels[upper[0]] == labels[upper[1]]
    for label, vectors in (("HOG path", hog), ("mesh path", mesh)):
        scores = pairwise_distances(vectors, vectors)[upper]
        eer, at = Rates(scores[same], scores[~same]).eer()
        echo(f"  pairs, {label}: EER {eer:6.2%} at {at:.3f}")


# ---- the command ---------------------------------------------------------------------------


def run(faces: Path | None = None, echo: Callable[[str], None] = print) -> None:
    """Encode the set once, then print pair, check-in and duplicate figures."""
    settings = Settings.from_env()
    folder = faces or DEFAULT_FACES
    if not folder.is_dir():
        raise FileNotFoundError(f"no face set at {folder}: pass --faces DIR (one folder per person)")
    people = [p for p in load(folder, echo) if sum(v is not None for v in p.photos) >= 2]
    if len(people) < 3:
        # A cohort needs two other people, a genuine comparison two photos.
        raise ValueError(f"{folder}: needs at least 3 people with 2 or more photos with a face")
    echo("single pairs (one photo each side):")
    _report("pairs, both encoded as a check-in frame", pair_rates(people), settings, echo)
    _report(
        "pairs, one side an enrolment template (with its mirror image)",
        pair_rates(people, enrolled=True),
        settings,
        echo,
    )
    for occasions in (1, 2):
        runs = sessions(people, occasions)
        echo(
            f"check-ins, {occasions} occasion(s) per session ({1 + 4}x{occasions} frames) "
            f"against up to {MAX_TEMPLATES} enrolled photos:"
        )
        scores = checkin_scores(people, runs, settings.face.limits)
        for name, (g, i) in scores.fused.items():
            _report(f"fusion {name}", Rates(g, i), settings, echo)
        for name, (g, inside, outside) in scores.normalised.items():
            echo(f"  fusion {name}, T-normed against the rest of the gallery:")
            for where, i in (("impostor enrolled in the county", inside), ("impostor from outside", outside)):
                rates = Rates(g, i)
                eer, _ = rates.eer()
                echo(f"    {where}: EER {eer:6.2%}; {_at_far_line(rates)}")
        face = settings.face
        genuine, inside, outside = scores.verdicts
        echo(
            f"  decided check-ins as the product decides them ({DEFAULT_FUSION}; accept: distance <= {face.accept:.2f} "
            f"and T-norm <= {face.norm_accept:.2f}, or distance <= {face.accept_close:.2f}; "
            f"reject: T-norm > {face.norm_review:.2f} "
            f"and distance > {face.accept_without_cohort:.2f}):"
        )
        echo(_verdict_line("    genuine:", genuine))
        echo(_verdict_line("    impostor enrolled in the county:", inside))
        echo(_verdict_line("    impostor from outside:", outside))
    _duplicate_report(people, settings, echo)
    _alignment_report(folder, echo)
