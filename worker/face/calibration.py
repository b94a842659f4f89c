"""Calibrating face-distance thresholds on a labelled set of same/different pairs."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Pair:
    a: Path
    b: Path
    same: bool


@dataclass(frozen=True)
class RatePoint:
    threshold: float
    far: float  # share of different-person pairs accepted
    frr: float  # share of same-person pairs refused


@dataclass(frozen=True)
class Recommendation:
    accept: float
    review: float
    far_at_accept: float
    frr_at_accept: float


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


def score_pairs(pairs: list[Pair], encode: Callable[[Path], np.ndarray | None]) -> list[tuple[float, bool]]:
    """Distance and label per pair, encoding each image once; images without a face are skipped."""
    cache: dict[Path, np.ndarray | None] = {}
    scored = []
    for pair in pairs:
        for path in (pair.a, pair.b):
            if path not in cache:
                cache[path] = encode(path)
        if cache[pair.a] is not None and cache[pair.b] is not None:
            scored.append((float(np.linalg.norm(cache[pair.a] - cache[pair.b])), pair.same))
    return scored


def error_rates(scored: list[tuple[float, bool]], thresholds: np.ndarray) -> list[RatePoint]:
    """FAR and FRR when pairs at or under each threshold are accepted."""
    same = np.array([d for d, s in scored if s])
    different = np.array([d for d, s in scored if not s])
    points = []
    for t in thresholds:
        far = float((different <= t).mean()) if different.size else 0.0
        frr = float((same > t).mean()) if same.size else 0.0
        points.append(RatePoint(round(float(t), 3), far, frr))
    return points


def recommend(points: list[RatePoint], *, target_far: float, max_frr: float = 0.05) -> Recommendation:
    """Accept at the loosest threshold within the target FAR; send up to where FRR reaches max_frr to review."""
    within = [p for p in points if p.far <= target_far]
    accept = max(within, key=lambda p: p.threshold) if within else points[0]
    reachable = [p for p in points if p.frr <= max_frr and p.threshold >= accept.threshold]
    review = min(reachable, key=lambda p: p.threshold).threshold if reachable else points[-1].threshold
    return Recommendation(accept.threshold, max(review, accept.threshold), accept.far, accept.frr)
