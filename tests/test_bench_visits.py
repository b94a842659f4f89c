"""`fieldcheck bench visits` runs end to end on a scratch PostgreSQL database (a smoke test, not a measurement)."""

import os
import subprocess
import sys
from pathlib import Path


def test_bench_visits_prints_its_figures(tmp_path):
    # Its own process: the benchmark builds an app, and building one in this process would rebind the
    # Celery app that the suite's worker runs under.
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")}
    env["FIELDCHECK_INSTANCE_PATH"] = str(tmp_path)
    fieldcheck = Path(sys.executable).parent / "fieldcheck"
    result = subprocess.run(
        [fieldcheck, "bench", "visits", "--visits", "20", "--batch", "8"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "visits per second" in result.stdout
    assert "flagged: 10.0% of the visits" in result.stdout
