"""`fieldcheck bench visits` runs end to end on a scratch PostgreSQL database (a smoke test, not a measurement)."""

from click.testing import CliRunner

from server.cli import cli


def test_bench_visits_prints_its_figures(monkeypatch):
    monkeypatch.delenv("FIELDCHECK_DATABASE_URL", raising=False)
    result = CliRunner().invoke(cli, ["bench", "visits", "--visits", "20", "--batch", "8"])
    assert result.exit_code == 0, result.output
    assert "visits per second" in result.output
    assert "flagged: 10.0% of the visits" in result.output
