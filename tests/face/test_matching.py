"""Fusion, T-norm, the match decision and the ranked duplicate search, on real photos' templates."""

import numpy as np
import pytest

from tests.support.photos import photo_bytes
from worker.face.encode import encode_face, find_face
from worker.face.image import decode_image
from worker.face.matching import (
    FUSIONS,
    Thresholds,
    cohort_scores,
    decide,
    duplicate_candidates,
    fuse,
    match,
    pairwise_distances,
    t_norm,
)

LIMITS = Thresholds(
    accept=0.45,
    review=0.55,
    norm_accept=-2.6,
    norm_review=-1.0,
    cohort_min=3,
    accept_without_cohort=0.38,
    accept_close=0.35,
)


@pytest.fixture(scope="module")
def faces() -> dict[str, np.ndarray]:
    vectors = {}
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        rgb = decode_image(photo_bytes(name), max_bytes=10_000_000, max_pixels=40_000_000)
        vectors[name] = encode_face(rgb, find_face(rgb))
    return vectors


def test_pairwise_distances_are_euclidean(faces):
    probes = np.stack([faces["obama.jpg"], faces["biden.jpg"]])
    templates = np.stack([faces["obama2.jpg"], faces["obama3.jpg"], faces["biden.jpg"]])
    expected = [[np.linalg.norm(p - t) for t in templates] for p in probes]
    # The dot-product expansion leaves about 1e-8 where a face meets itself.
    assert np.allclose(pairwise_distances(probes, templates), expected, atol=1e-6)


def test_fusions_over_a_matrix():
    d = np.array([[0.30, 0.50, 0.70], [0.40, 0.60, 0.80], [0.35, 0.90, 0.45]])
    assert fuse(d, "min") == 0.30
    assert fuse(d, "mean_closest") == pytest.approx((0.30 + 0.35 + 0.40) / 3)
    assert fuse(d, "median") == 0.50
    # Nine values, two off each end: 0.40 0.45 0.50 0.60 0.70.
    assert fuse(d, "trimmed_mean") == pytest.approx(0.53)
    assert fuse(d, "frame_min_mean") == pytest.approx((0.30 + 0.40 + 0.35) / 3)
    # One pair: every fusion is that distance.
    assert {fuse(np.array([[0.42]]), name) for name in FUSIONS} == {0.42}
    with pytest.raises(ValueError):
        fuse(np.empty((0, 3)))


def test_match_names_the_closest_pair_and_ranks_the_probes(faces):
    probes = np.stack([faces["biden.jpg"], faces["obama3.jpg"], faces["obama2.jpg"]])
    templates = np.stack([faces["obama2.jpg"], faces["obama.jpg"]])
    result = match(probes, templates)
    # obama2 against itself is the closest pair; obama3 next, Biden last.
    assert (result.closest_probe, result.closest_template) == (2, 0)
    assert result.probes_by_likeness == (2, 1, 0)


def test_t_norm_measures_distance_in_cohort_spreads():
    assert t_norm(0.4, np.array([0.8, 0.9, 1.0])) == pytest.approx((0.4 - 0.9) / np.std([0.8, 0.9, 1.0]))
    with pytest.raises(ValueError):
        t_norm(0.4, np.array([0.8]))


def test_decide_with_and_without_a_cohort():
    wide = np.array([0.80, 0.85, 0.90, 0.95, 1.00])  # mean 0.9, std ~0.071
    # Without a cohort (or too small a one): the stricter raw accept.
    assert decide(0.37, None, LIMITS) == ("accept", None)
    assert decide(0.40, None, LIMITS) == ("review", None)
    assert decide(0.60, wide[:2], LIMITS) == ("reject", None)
    # With one: both the T-norm and the raw distance must agree to accept.
    outcome, normalised = decide(0.42, wide, LIMITS)
    assert outcome == "accept" and normalised < -2.6
    assert decide(0.50, np.array([1.20, 1.25, 1.30, 1.35, 1.40]), LIMITS)[0] == "review"
    # Close to the cohort: rejected, unless the raw distance alone would have accepted it.
    assert decide(0.85, wide, LIMITS)[0] == "reject"
    assert decide(0.36, np.array([0.30, 0.35, 0.40, 0.45, 0.50]), LIMITS)[0] == "review"
    # As close as accept_close: accepted even where the cohort comes as close (a look-alike in the county).
    outcome, normalised = decide(0.35, np.array([0.30, 0.35, 0.40, 0.45, 0.50]), LIMITS)
    assert outcome == "accept" and normalised > LIMITS.norm_accept


def test_cohort_scores_fuse_against_each_identity(faces):
    probes = np.stack([faces["obama3.jpg"]])
    cohort = [np.stack([faces["biden.jpg"]]), np.stack([faces["obama.jpg"], faces["obama2.jpg"]])]
    scores = cohort_scores(probes, cohort, "min")
    assert scores == pytest.approx([np.linalg.norm(faces["obama3.jpg"] - faces["biden.jpg"]), 0.324], abs=0.01)


def test_the_duplicate_search_ranks_identities_all_new_photos_agree_with():
    rng = np.random.default_rng(7)
    strangers = rng.normal(0, 1, size=(30, 128)) * 0.09  # about 1.4 apart
    twin = strangers[4] + rng.normal(0, 0.01, size=128)
    gallery = np.concatenate([strangers, [twin]])
    owners = [f"p{i}" for i in range(30)] + ["p4"]
    new = np.stack([strangers[4] + 0.002, strangers[9] + 0.002])
    # One new photo is p4, the other p9: no identity matches both, so nothing is listed (p9's
    # normalised score alone would pass: the raw distance must agree too).
    assert (
        duplicate_candidates(
            new, gallery, owners, norm_threshold=-2.0, raw_threshold=0.5, max_candidates=3, cohort_min=20
        )
        == []
    )
    listed = duplicate_candidates(
        new[:1], gallery, owners, norm_threshold=-2.0, raw_threshold=0.5, max_candidates=3, cohort_min=20
    )
    assert [c.owner for c in listed] == ["p4"] and listed[0].score < -2.0
    # Fewer identities than cohort_min: the raw distance decides, and no score is given.
    small = duplicate_candidates(
        new[:1], gallery[:5], owners[:5], norm_threshold=-2.0, raw_threshold=0.5, max_candidates=3, cohort_min=20
    )
    assert [(c.owner, c.score) for c in small] == [("p4", None)]
    # Never more than max_candidates, closest first.
    loose = duplicate_candidates(
        new[:1], gallery, owners, norm_threshold=10.0, raw_threshold=5.0, max_candidates=2, cohort_min=20
    )
    assert len(loose) == 2 and loose[0].owner == "p4" and loose[0].distance <= loose[1].distance
