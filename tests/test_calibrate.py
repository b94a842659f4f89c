"""`fieldcheck calibrate` on a labelled folder of real photo pairs."""

import shutil

from tests.support.cli import invoke
from tests.support.photos import photos_dir


def test_calibrate_prints_rates_and_recommends_thresholds(app, tmp_path):
    for name in ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"):
        shutil.copy(photos_dir() / name, tmp_path / name)
    (tmp_path / "pairs.csv").write_text(
        "image_a,image_b,label\n"
        "obama.jpg,obama2.jpg,same\nobama.jpg,obama3.jpg,same\nobama2.jpg,obama3.jpg,same\n"
        "obama.jpg,biden.jpg,different\nobama2.jpg,biden.jpg,different\nobama3.jpg,biden.jpg,different\n"
    )
    result = invoke(app, "calibrate", str(tmp_path), "--target-far", "0.001")
    assert result.exit_code == 0, result.output
    assert "pairs scored: 6 of 6 (3 same, 3 different)" in result.output
    rows = {line.split()[0]: line.split()[1:] for line in result.output.splitlines() if line[:1] == " "}
    # Every different pair is > 0.8 apart and every same pair < 0.45: no errors between them.
    assert rows["0.45"] == ["0.0000", "0.0000"]
    assert rows["0.30"][1] == "1.0000"
    assert "FIELDCHECK_FACE_ACCEPT=0.70" in result.output
