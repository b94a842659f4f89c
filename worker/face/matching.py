"""Deciding on all the evidence: many probe faces against many templates, fused into one distance.

Pure functions on arrays, no I/O: the check-in verdict, calibration, the matching benchmark and the
duplicate search all score with these, so what is measured is what runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from worker.face.limits import Thresholds

# Several frames of one session and several enrolment photos give a frames × templates matrix.
# Measured on the East Asian development set (`fieldcheck bench matching`), the mean of the few
# closest pairs separates genuine from impostor check-ins best: the minimum rewards one lucky
# pair (and impostors get lucky among many pairs), the median drags in frames with a turned
# head and templates from another decade.
DEFAULT_FUSION = "mean_closest"
CLOSEST_K = 3


def pairwise_distances(probes: np.ndarray, templates: np.ndarray) -> np.ndarray:
    """Euclidean distances between every probe (P, 128) and every template (T, 128): a (P, T) matrix."""
    probes = np.atleast_2d(np.asarray(probes, dtype=np.float64))
    templates = np.atleast_2d(np.asarray(templates, dtype=np.float64))
    squared = (probes**2).sum(axis=1)[:, None] + (templates**2).sum(axis=1)[None, :] - 2.0 * probes @ templates.T
    return np.sqrt(np.clip(squared, 0.0, None))


def _minimum(d: np.ndarray) -> float:
    return float(d.min())


def _mean_closest(d: np.ndarray) -> float:
    flat = np.sort(d, axis=None)
    return float(flat[:CLOSEST_K].mean())


def _median(d: np.ndarray) -> float:
    return float(np.median(d))


def _trimmed_mean(d: np.ndarray) -> float:
    # A quarter off each end: the worst frames (motion, a turned head) and the luckiest pairs.
    flat = np.sort(d, axis=None)
    cut = flat.size // 4
    return float(flat[cut : flat.size - cut].mean())


def _mean_of_frame_minimum(d: np.ndarray) -> float:
    # Each frame's closest template, averaged over the frames.
    return float(d.min(axis=1).mean())


FUSIONS: dict[str, Callable[[np.ndarray], float]] = {
    "min": _minimum,
    "mean_closest": _mean_closest,
    "median": _median,
    "trimmed_mean": _trimmed_mean,
    "frame_min_mean": _mean_of_frame_minimum,
}


def fuse(distances: np.ndarray, method: str = DEFAULT_FUSION) -> float:
    """One distance from a (probes, templates) distance matrix, by the named fusion."""
    if distances.size == 0:
        raise ValueError("nothing to fuse: no probes or no templates")
    return FUSIONS[method](np.atleast_2d(distances))


@dataclass(frozen=True)
class Match:
    """A fused distance, and the pair of faces that came closest (for a reviewer's side-by-side view)."""

    distance: float
    closest_probe: int
    closest_template: int
    # Probe indices, closest first by their best template distance.
    probes_by_likeness: tuple[int, ...]


def match(probes: np.ndarray, templates: np.ndarray, method: str = DEFAULT_FUSION) -> Match:
    """Fuse every probe against every template; name the closest pair and rank the probes."""
    d = pairwise_distances(probes, templates)
    probe, template = np.unravel_index(int(d.argmin()), d.shape)
    ranked = tuple(int(i) for i in np.argsort(d.min(axis=1), kind="stable"))
    return Match(fuse(d, method), int(probe), int(template), ranked)


def cohort_scores(probes: np.ndarray, cohort: Sequence[np.ndarray], method: str = DEFAULT_FUSION) -> np.ndarray:
    """The fused distance of the probes to each cohort identity's templates (one array per identity)."""
    return np.array([fuse(pairwise_distances(probes, templates), method) for templates in cohort])


def t_norm(distance: float, cohort: np.ndarray) -> float:
    """How many cohort standard deviations closer than the cohort the claimed identity is (lower = closer)."""
    spread = float(cohort.std())
    if cohort.size < 2 or spread <= 0.0:
        raise ValueError("a cohort needs at least two identities at different distances")
    return (distance - float(cohort.mean())) / spread


def decide(distance: float, cohort: np.ndarray | None, limits: Thresholds) -> tuple[str, float | None]:
    """ "accept", "review" or "reject" for a fused distance, and its T-norm when the cohort is big enough.

    With a cohort, the normalised score decides, and the raw distance must agree for an accept
    (a stranger from outside the county comes close in raw distance only; a cohort that happens
    to lie far off cannot pull a distant face into accept), unless the raw distance is so close
    (`accept_close`) that strangers almost never reach it: a person whose county holds a
    look-alike is then not sent to review for the look-alike's sake. A raw accept is never
    rejected outright. Without a cohort, the raw distance decides, with a stricter accept (raw
    distances of strangers overlap the genuine ones far more than normalised scores do).
    """
    if cohort is None or cohort.size < limits.cohort_min:
        if distance <= limits.accept_without_cohort:
            return "accept", None
        return ("review" if distance <= limits.review else "reject"), None
    normalised = t_norm(distance, cohort)
    if (normalised <= limits.norm_accept and distance <= limits.accept) or distance <= limits.accept_close:
        return "accept", normalised
    if normalised <= limits.norm_review or distance <= limits.accept_without_cohort:
        return "review", normalised
    return "reject", normalised


@dataclass(frozen=True)
class Candidate:
    """A gallery identity that may be the same person as a new enrolment."""

    owner: object
    distance: float  # the worst of the new photos' closest distances to this identity
    score: float | None  # that distance T-normed over every gallery identity (None: raw only)


def duplicate_candidates(
    new: np.ndarray,
    gallery: np.ndarray,
    owners: Sequence[object],
    *,
    norm_threshold: float,
    raw_threshold: float,
    max_candidates: int,
    cohort_min: int,
) -> list[Candidate]:
    """Ranked gallery identities that every new photo comes close to, at most max_candidates of them.

    An identity's distance is the worst over the new photos of each photo's closest template of
    that identity: all of the person's photos must agree. The distance must be within
    raw_threshold and, with enough identities, its T-norm over the whole gallery (the search
    computes every identity's distance anyway) within norm_threshold: in a large gallery the
    normalised cut is the one that holds the false candidates down.
    """
    if len(owners) == 0:
        return []
    d = pairwise_distances(new, gallery)  # (new photos, gallery rows)
    identities = list(dict.fromkeys(owners))
    column = {owner: i for i, owner in enumerate(identities)}
    groups = np.array([column[o] for o in owners])
    # Per new photo and identity: the closest of that identity's templates.
    closest = np.full((d.shape[0], len(identities)), np.inf)
    np.minimum.at(closest, (slice(None), groups), d)
    ranked = rank_candidates(
        closest.max(axis=0),
        norm_threshold=norm_threshold,
        raw_threshold=raw_threshold,
        max_candidates=max_candidates,
        cohort_min=cohort_min,
    )
    return [Candidate(identities[i], distance, score) for i, distance, score in ranked]


def rank_candidates(
    worst: np.ndarray, *, norm_threshold: float, raw_threshold: float, max_candidates: int, cohort_min: int
) -> list[tuple[int, float, float | None]]:
    """(identity index, distance, T-norm or None) of the identities chosen from each one's worst distance.

    Within raw_threshold and, with at least cohort_min identities, a T-norm over all of them within
    norm_threshold; closest first, at most max_candidates.
    """
    chosen = worst <= raw_threshold
    scores = None
    if len(worst) >= cohort_min:
        scores = (worst - worst.mean()) / worst.std()
        chosen &= scores <= norm_threshold
    chosen = np.flatnonzero(chosen)
    ranked = sorted(chosen, key=lambda i: worst[i])[:max_candidates]
    return [(int(i), float(worst[i]), None if scores is None else float(scores[i])) for i in ranked]
