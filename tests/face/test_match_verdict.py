"""The check-in's match as the worker decides it (verification.assess), against a county cohort: no database."""

from pathlib import Path

import numpy as np
import pytest

from server.models import CheckinState
from server.services.verification import assess
from tests.conftest import make_settings
from tests.support.photos import photo_bytes
from tests.support.sessions import genuine_session
from worker.face.encode import encode_enrolment_face, find_face
from worker.face.image import decode_image
from worker.face.liveness import FrameInput

LIMITS = {"max_bytes": 10_000_000, "max_pixels": 40_000_000}
ACTIONS = ["blink", "turn_left"]
SETTINGS = make_settings(Path("unused"), database_url="sqlite://", broker_url="memory://")


def _template(name: str) -> np.ndarray:
    # As the enrolment worker encodes a photo.
    rgb = decode_image(photo_bytes(name), **LIMITS)
    return encode_enrolment_face(rgb, find_face(rgb))


@pytest.fixture(scope="module")
def session_frames() -> list[FrameInput]:
    return [
        FrameInput(decode_image(f.jpeg, **LIMITS), f.action, f.captured_at)
        for f in genuine_session("obama3.jpg", ACTIONS, seed=1)
    ]


@pytest.fixture(scope="module")
def enrolled() -> list[np.ndarray]:
    return [_template("obama.jpg"), _template("obama2.jpg")]


@pytest.fixture(scope="module")
def enrolled_apart() -> list[np.ndarray]:
    # obama2 alone: the session (obama3) is further from it than from obama.jpg, past accept_close.
    return [_template("obama2.jpg")]


def _cohort(centre: np.ndarray, spreads: np.ndarray, seed: int) -> list[np.ndarray]:
    """One identity per spread: two templates about that far from centre."""
    rng = np.random.default_rng(seed)
    return [np.stack([centre + rng.normal(0, s / np.sqrt(128), 128) for _ in range(2)]) for s in spreads]


def test_without_a_cohort_the_raw_distance_decides(session_frames, enrolled):
    outcome = assess(session_frames, ACTIONS, enrolled, SETTINGS, light=None, template_ids=["t1", "t2"])
    assert outcome.state == CheckinState.VERIFIED
    assert outcome.scores["cohort"] == 0 and "t_norm" not in outcome.scores
    assert outcome.scores["distance"] <= SETTINGS.face.accept_without_cohort
    assert outcome.scores["closest_template_id"] in {"t1", "t2"}
    assert outcome.best_frames and outcome.best_template is not None


def test_a_cohort_of_strangers_far_away_normalises_the_score(session_frames, enrolled):
    cohort = _cohort(_template("biden.jpg"), np.full(25, 0.6), seed=1)
    outcome = assess(session_frames, ACTIONS, enrolled, SETTINGS, light=None, cohort=cohort)
    assert outcome.state == CheckinState.VERIFIED
    assert outcome.scores["cohort"] == 25 and outcome.scores["t_norm"] <= SETTINGS.face.norm_accept


def test_when_the_cohort_comes_as_close_as_the_enrolment_a_person_decides(session_frames, enrolled_apart):
    # A county where several people look as alike as the enrolment (relatives): the same raw
    # distance no longer stands out from the cohort.
    cohort = _cohort(enrolled_apart[0], np.linspace(0.1, 0.9, 25), seed=2)
    outcome = assess(session_frames, ACTIONS, enrolled_apart, SETTINGS, light=None, cohort=cohort)
    assert outcome.state == CheckinState.REVIEW and outcome.reasons == ["face_uncertain"]
    assert outcome.scores["t_norm"] > SETTINGS.face.norm_accept
    assert SETTINGS.face.accept_close < outcome.scores["distance"] <= SETTINGS.face.accept


def test_a_match_as_close_as_accept_close_is_verified_beside_look_alikes(session_frames, enrolled):
    # The same look-alike county, but the session is as close to its enrolment as strangers
    # almost never come: verified, not sent to review for the look-alikes' sake (issue 12).
    cohort = _cohort(enrolled[0], np.linspace(0.1, 0.9, 25), seed=2)
    outcome = assess(session_frames, ACTIONS, enrolled, SETTINGS, light=None, cohort=cohort)
    assert outcome.state == CheckinState.VERIFIED and outcome.reasons == []
    assert outcome.scores["t_norm"] > SETTINGS.face.norm_accept
    assert outcome.scores["distance"] <= SETTINGS.face.accept_close


def test_the_liveness_bench_tallies_the_raw_distance_verdict_as_assess_decides_it(session_frames, enrolled_apart):
    # bench liveness decides with a cohort, as verify_checkin does, and reports beside it what the
    # raw distance alone would have decided: that must be what assess decides without a cohort,
    # here where the two differ (a cohort of distant strangers verifies a match that the raw
    # distance alone sends to review).
    from bench.liveness import _without_cohort

    cohort = _cohort(_template("biden.jpg"), np.full(25, 0.6), seed=1)
    with_cohort = assess(session_frames, ACTIONS, enrolled_apart, SETTINGS, light=None, cohort=cohort)
    without = assess(session_frames, ACTIONS, enrolled_apart, SETTINGS, light=None)
    assert with_cohort.scores["cohort"] == 25 and with_cohort.state != without.state
    state, reasons = _without_cohort(with_cohort.state.value, with_cohort.reasons, with_cohort.scores, SETTINGS)
    assert (state, reasons) == (without.state.value, without.reasons)


def test_the_liveness_bench_dumps_each_decided_session(tmp_path):
    # `bench liveness --dump` is how a kind's failures are traced to their figures: one JSON line
    # per decided session, with the verdict and the scores assess gave it.
    import json

    from bench.liveness import run
    from tests.support.photos import photos_dir

    dump = tmp_path / "sessions.jsonl"
    results = run(photos_dir(), limit=1, kinds=["genuine", "replayed"], dump=dump, echo=lambda _: None)
    lines = [json.loads(line) for line in dump.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["genuine", "replayed"]
    for line in lines:
        assert results[line["kind"]]["verdicts"] == {line["state"]: 1}
        assert line["scores"]["light"]["outcome"] in ("matched", "mismatched", "unmeasurable")
    assert lines[1]["reasons"] == ["light_response_mismatch"]


def test_a_person_swapped_in_for_the_colour_phase_alone_is_caught(session_frames, enrolled):
    # The colour phase is what an animated photo of the enrolled person cannot do: someone else
    # sitting in for it alone, and reflecting the colours as a live face does, must not carry the check-in.
    from tests.support.sessions import with_light_phase
    from worker.face.light import light_sequence
    from worker.face.liveness import LightChallenge

    colours = light_sequence("swapped-colour-phase")
    stranger = with_light_phase(genuine_session("biden.jpg", ACTIONS, seed=1), {"colours": colours, "step_ms": 700})
    lit = [FrameInput(decode_image(f.jpeg, **LIMITS), f.action, f.captured_at, f.colour) for f in stranger if f.colour]
    light = LightChallenge(colours, 700)
    outcome = assess([*session_frames, *lit], ACTIONS, enrolled, SETTINGS, light=light)
    assert outcome.scores["light"]["outcome"] == "matched"
    assert (outcome.state, outcome.reasons) == (CheckinState.REJECTED, ["identity_changed"])


def test_the_liveness_bench_claims_each_live_session_as_someone_else(tmp_path):
    # The impostor kinds are a live person checking in under another's identity: the same genuine
    # session, decided against the other person's enrolment, so only the face match can stop it.
    import json
    import shutil

    from bench.liveness import run
    from tests.support.photos import photos_dir

    for person, names in {"obama": ("obama.jpg", "obama2.jpg"), "biden": ("biden.jpg",)}.items():
        (tmp_path / person).mkdir()
        for name in names:
            shutil.copy(photos_dir() / name, tmp_path / person / name)
    dump = tmp_path / "sessions.jsonl"
    results = run(tmp_path, limit=2, kinds=["genuine", "impostor"], dump=dump, echo=lambda _: None)
    lines = [json.loads(line) for line in dump.read_text().splitlines()]
    assert sorted((line["photo"].split("/")[-1], line["kind"]) for line in lines) == [
        ("biden.jpg", "genuine"),
        ("biden.jpg", "impostor"),
        ("obama.jpg", "genuine"),
        ("obama.jpg", "impostor"),
    ]
    assert results["genuine"]["verdicts"] == {"verified": 2}
    assert results["impostor"] == {"verdicts": {"rejected": 2}, "reasons": {"face_mismatch": 2}}
    assert all(line["scores"]["distance"] > 0.6 for line in lines if line["kind"] == "impostor")
