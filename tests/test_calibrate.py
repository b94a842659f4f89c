"""`fieldcheck calibrate` on labelled real photo pairs and on a deployment's own gallery, and its rules."""

import shutil

import numpy as np
import pytest
from PIL import Image

from tests.support.checkins import enrolled_person
from tests.support.cli import invoke
from tests.support.photos import photos_dir
from worker.face import calibration

PAIRS = (
    "image_a,image_b,label\n"
    "obama.jpg,obama2.jpg,same\nobama.jpg,obama3.jpg,same\nobama2.jpg,obama3.jpg,same\n"
    "obama.jpg,biden.jpg,different\nobama2.jpg,biden.jpg,different\nobama3.jpg,biden.jpg,different\n"
)


def _folder(tmp_path, pairs: str):
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        shutil.copy(photos_dir() / name, tmp_path / name)
    # A real photo of a wall: no face in it.
    Image.new("RGB", (640, 480), (182, 170, 150)).save(tmp_path / "wall.png")
    # Biden once more, mirrored: a second impostor image.
    with Image.open(tmp_path / "biden.jpg") as biden:
        biden.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(tmp_path / "biden_mirrored.jpg")
    (tmp_path / "pairs.csv").write_text(pairs)
    return tmp_path


def _rows(output: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split()[1:] for line in output.splitlines() if line[:1] == " "}


def test_six_pairs_print_rates_but_cannot_show_a_far_of_one_in_a_thousand(app, tmp_path):
    result = invoke(app, "calibrate", str(_folder(tmp_path, PAIRS)), "--target-far", "0.001")
    assert "pairs scored: 6 (3 same, 3 different); images without a face: 0 of 4" in result.output
    rows = _rows(result.output)
    # Every different pair is > 0.8 apart and every same pair < 0.45: no errors between them.
    assert rows["0.45"] == ["0.0000", "0.0000"]
    assert rows["0.30"][1] == "1.0000"
    # Three impostor comparisons say nothing about one in a thousand (it used to recommend 0.70 = 0.70).
    assert result.exit_code == 1
    assert "FIELDCHECK_FACE_ACCEPT" not in result.output
    assert "no recommendation: 3 impostor comparisons cannot show a FAR of 0.001: at least 3000" in result.output


def test_a_photo_without_a_face_is_a_reject_not_a_dropped_pair(app, tmp_path):
    pairs = PAIRS + "obama.jpg,wall.png,same\nbiden.jpg,wall.png,different\n"
    result = invoke(app, "calibrate", str(_folder(tmp_path, pairs)), "--target-far", "0.7")
    assert "pairs scored: 8 (4 same, 4 different); images without a face: 1 of 5" in result.output
    rows = _rows(result.output)
    # The faceless genuine pair is refused at every threshold; the impostor pair is never accepted.
    assert rows["0.45"] == ["0.0000", "0.2500"]
    assert rows["0.70"] == ["0.0000", "0.2500"]


def test_a_recommendation_always_leaves_a_review_band(app, tmp_path):
    pairs = PAIRS + "".join(
        f"{name},biden_mirrored.jpg,different\n" for name in ("obama.jpg", "obama2.jpg", "obama3.jpg")
    )
    # Six impostor comparisons, none accepted, can show a FAR of 0.5 (3 / 0.5 = 6; 95 % upper bound 0.39).
    result = invoke(app, "calibrate", str(_folder(tmp_path, pairs)), "--target-far", "0.5")
    assert result.exit_code == 0, result.output
    assert "FIELDCHECK_FACE_ACCEPT=0.70 FIELDCHECK_FACE_REVIEW=0.75" in result.output


def test_the_rule_of_three_and_the_upper_bound():
    assert calibration.comparisons_needed(0.001) == 3000
    # The exact bound with none accepted is 1 - 0.05 ** (1 / n): the rule of three is its rounding.
    assert calibration.far_upper_bound(0, 3000) <= 0.001 < calibration.far_upper_bound(0, 2994)
    # One-sided 95 % Clopper-Pearson bounds, as tabulated.
    assert calibration.far_upper_bound(1, 100) == pytest.approx(0.0466, abs=2e-4)
    assert calibration.far_upper_bound(5, 1000) == pytest.approx(0.0105, abs=2e-4)

    def scored(impostors: int, genuine: np.ndarray) -> calibration.Scored:
        far = np.linspace(0.56, 1.2, impostors)
        return calibration.Scored([(float(d), False) for d in far] + [(float(d), True) for d in genuine])

    genuine = np.linspace(0.25, 0.5, 100)
    with pytest.raises(calibration.CannotRecommend, match="2999 impostor comparisons"):
        calibration.recommend(calibration.error_rates(scored(2999, genuine)), 2999, target_far=0.001)
    enough = scored(3000, genuine)
    advice = calibration.recommend(calibration.error_rates(enough), 3000, target_far=0.001)
    # No impostor under 0.56: accept at 0.55; genuine all under 0.50, yet the band stays.
    assert (advice.accept, advice.review) == (0.55, 0.60)
    assert advice.far_upper_bound <= 0.001


def test_from_the_gallery_impostors_are_other_beneficiaries_and_only_figures_are_printed(
    app, api, world, celery_worker
):
    obama, _ = enrolled_person(api, world, 1, "obama.jpg", "obama2.jpg")
    biden, _ = enrolled_person(api, world, 2, "biden.jpg")
    result = invoke(app, "calibrate", "--from-gallery")
    assert "gallery comparisons: 1 same, 2 different" in result.output, result.output
    assert _rows(result.output)["0.45"] == ["0.0000", "0.0000"]
    assert "2 impostor comparisons cannot show a FAR of 0.001" in result.output
    assert obama not in result.output and biden not in result.output
    assert (
        "gallery comparisons: 0 same, 0 different"
        in invoke(app, "calibrate", "--from-gallery", "--county", "999999").output
    )
