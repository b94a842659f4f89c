"""Calibrating face-distance thresholds on labelled same/different comparisons, without misleading.

Three rules keep a recommendation honest: an image without a face is a failure to enrol and counts
as a reject in every comparison it is part of (dropping it hides exactly the hard cases); a target
FAR is only claimed where the impostor comparisons can show it (the 95 % upper confidence bound
of the FAR at the accept threshold must be within the target, which needs at least 3 / target-FAR
comparisons even when none is accepted: the "rule of three"); and there is always a review band
between accept and reject, so an uncertain face goes to a person.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from worker.face.matching import pairwise_distances

# Accept thresholds considered, in distance units of dlib's 128-d model.
GRID = np.round(np.arange(0.30, 0.701, 0.01), 3)
# The narrowest review band a recommendation leaves above accept.
MIN_REVIEW_BAND = 0.05
CONFIDENCE = 0.95
NO_FACE = math.inf  # the distance of a comparison with no face on one side: never accepted


@dataclass(frozen=True)
class Pair:
    a: Path
    b: Path
    same: bool


@dataclass(frozen=True)
class RatePoint:
    threshold: float
    far: float  # share of different-person comparisons accepted
    frr: float  # share of same-person comparisons refused
    impostors_accepted: int


@dataclass(frozen=True)
class Scored:
    """Distances with their labels, and how many images had no usable face."""

    comparisons: list[tuple[float, bool]]
    images: int = 0
    no_face: int = 0

    @property
    def genuine(self) -> int:
        return sum(1 for _, same in self.comparisons if same)

    @property
    def impostor(self) -> int:
        return len(self.comparisons) - self.genuine


@dataclass(frozen=True)
class Recommendation:
    accept: float
    review: float
    far_at_accept: float
    frr_at_accept: float
    frr_at_review: float
    far_upper_bound: float  # 95 % upper confidence bound of the FAR at accept


class CannotRecommend(ValueError):
    """The comparisons cannot support a threshold for the target FAR; the message says why."""


def read_pairs(folder: Path) -> list[Pair]:
    """Pairs from folder/pairs.csv with columns image_a, image_b, label (same or different)."""
    pairs = []
    with (folder / "pairs.csv").open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            label = row["label"].strip().lower()
            if label not in ("same", "different"):
                raise ValueError(f"label must be same or different, got {row['label']!r}")
            pairs.append(Pair(folder / row["image_a"].strip(), folder / row["image_b"].strip(), label == "same"))
    return pairs


def score_pairs(
    pairs: list[Pair],
    encode: Callable[[Path], np.ndarray | None],
    enrol: Callable[[Path], np.ndarray | None] | None = None,
) -> Scored:
    """Distance and label per pair, encoding each image once; a pair with a faceless image is a reject.

    With `enrol`, image_a is encoded by it (as the enrolment worker encodes a photo) and image_b
    by `encode` (as a check-in encodes a frame): the comparison the check-in decision makes.
    """
    enrol = enrol or encode
    cache: dict[tuple[Path, bool], np.ndarray | None] = {}
    scored = []
    for pair in pairs:
        for path, enrolled in ((pair.a, True), (pair.b, False)):
            if (path, enrolled) not in cache:
                cache[path, enrolled] = (enrol if enrolled else encode)(path)
        a, b = cache[pair.a, True], cache[pair.b, False]
        distance = NO_FACE if a is None or b is None else float(np.linalg.norm(a - b))
        scored.append((distance, pair.same))
    images = {path for path, _ in cache}
    no_face = {path for (path, _), v in cache.items() if v is None}
    return Scored(scored, images=len(images), no_face=len(no_face))


def score_gallery(people: Iterable[tuple[list[np.ndarray], list[np.ndarray]]], *, chunk: int = 2048) -> Scored:
    """Comparisons from a deployment's own data: per person, (enrolment templates, check-in templates).

    Genuine: every two enrolment templates of a person, and each check-in template against each
    enrolment template. Impostor: every enrolment template against every other person's. Only the
    distances leave this function.
    """
    enrolment: list[np.ndarray] = []
    owners: list[int] = []
    comparisons: list[tuple[float, bool]] = []
    for number, (enrolled, checkins) in enumerate(people):
        if not enrolled:
            continue
        mine = np.stack(enrolled)
        same = pairwise_distances(mine, mine)[np.triu_indices(len(mine), k=1)]
        comparisons.extend((float(d), True) for d in same)
        if checkins:
            comparisons.extend((float(d), True) for d in pairwise_distances(np.stack(checkins), mine).ravel())
        enrolment.extend(mine)
        owners.extend([number] * len(mine))
    if enrolment:
        everyone = np.stack(enrolment)
        whose = np.array(owners)
        # In chunks: a county's gallery squared does not fit in memory at once.
        for start in range(0, len(everyone), chunk):
            block = pairwise_distances(everyone[start : start + chunk], everyone)
            rows = whose[start : start + chunk]
            later = np.arange(start, start + len(block))[:, None] < np.arange(len(everyone))[None, :]
            mask = later & (rows[:, None] != whose[None, :])
            comparisons.extend((float(d), False) for d in block[mask])
    return Scored(comparisons)


def error_rates(scored: Scored | list[tuple[float, bool]], thresholds: np.ndarray = GRID) -> list[RatePoint]:
    """FAR and FRR when comparisons at or under each threshold are accepted."""
    pairs = scored.comparisons if isinstance(scored, Scored) else scored
    same = np.array([d for d, s in pairs if s])
    different = np.array([d for d, s in pairs if not s])
    points = []
    for t in thresholds:
        accepted = int((different <= t).sum()) if different.size else 0
        far = accepted / different.size if different.size else 0.0
        frr = float((same > t).mean()) if same.size else 0.0
        points.append(RatePoint(round(float(t), 3), far, frr, accepted))
    return points


def far_upper_bound(accepted: int, comparisons: int, confidence: float = CONFIDENCE) -> float:
    """One-sided Clopper–Pearson upper bound of a false-accept rate seen as accepted / comparisons."""
    if comparisons <= 0:
        return 1.0
    if accepted >= comparisons:
        return 1.0
    alpha = 1.0 - confidence
    if accepted == 0:
        return 1.0 - alpha ** (1.0 / comparisons)

    def cdf(p: float) -> float:
        log_terms = [
            math.lgamma(comparisons + 1)
            - math.lgamma(k + 1)
            - math.lgamma(comparisons - k + 1)
            + k * math.log(p)
            + (comparisons - k) * math.log1p(-p)
            for k in range(accepted + 1)
        ]
        top = max(log_terms)
        return math.exp(top) * sum(math.exp(t - top) for t in log_terms)

    low, high = accepted / comparisons, 1.0
    for _ in range(100):
        middle = (low + high) / 2
        if cdf(middle) > alpha:
            low = middle
        else:
            high = middle
    return high


def comparisons_needed(target_far: float) -> int:
    """Impostor comparisons needed to show target_far even with none accepted (the rule of three)."""
    return math.ceil(3.0 / target_far)


def recommend(points: list[RatePoint], impostors: int, *, target_far: float, max_frr: float = 0.05) -> Recommendation:
    """Accept at the loosest threshold the data shows within the target FAR; review up to max_frr.

    Raises CannotRecommend when there are too few impostor comparisons to show the target FAR, or
    when no threshold on the grid stays within it.
    """
    needed = comparisons_needed(target_far)
    if impostors < needed:
        raise CannotRecommend(
            f"{impostors} impostor comparisons cannot show a FAR of {target_far:g}: "
            f"at least {needed} are needed, with none accepted"
        )
    shown = [p for p in points if far_upper_bound(p.impostors_accepted, impostors) <= target_far]
    if not shown:
        raise CannotRecommend(
            f"no threshold from {points[0].threshold:.2f} up keeps the FAR within {target_far:g} "
            f"(95 % upper bound over {impostors} impostor comparisons)"
        )
    accept = max(shown, key=lambda p: p.threshold)
    floor = accept.threshold + MIN_REVIEW_BAND
    reachable = [p for p in points if p.frr <= max_frr and p.threshold >= floor - 1e-9]
    if reachable:
        review = min(reachable, key=lambda p: p.threshold)
        review_at, frr_at_review = review.threshold, review.frr
    else:
        # FRR stays above max_frr to the end of the grid: review up to there, never narrower than the band.
        review_at, frr_at_review = max(floor, points[-1].threshold), points[-1].frr
    return Recommendation(
        accept=accept.threshold,
        review=round(review_at, 3),
        far_at_accept=accept.far,
        frr_at_accept=accept.frr,
        frr_at_review=frr_at_review,
        far_upper_bound=far_upper_bound(accept.impostors_accepted, impostors),
    )
