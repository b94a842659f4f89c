"""`fieldcheck audit verify` on PostgreSQL: it finds an edited, a deleted, a moved and a cut-off entry, and says
"could not check" (exit 2, never 1) when there is no database to read."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server import db
from server.config import default_instance_path
from server.models import AuditEntry
from tests.support.cli import invoke, tamper_with_audit_log


def _verify(app):
    return invoke(app, "audit", "verify")


def test_an_intact_chain_passes(app, api, world):
    api.as_("supervisor_a")
    result = _verify(app)
    assert (result.exit_code, result.output.strip()) == (0, "audit chain intact")


TAMPERING = {
    "edited": (["UPDATE audit_entry SET actor_id = 'someone-else' WHERE seq = 4"], 4, "edited"),
    "deleted": (["DELETE FROM audit_entry WHERE seq = 4"], 4, "missing"),
    # Entries 4 and 5 swap places: each keeps its content but takes the other's number.
    "reordered": (
        [
            "UPDATE audit_entry SET seq = -seq WHERE seq IN (4, 5)",
            "UPDATE audit_entry SET seq = CASE seq WHEN -4 THEN 5 ELSE 4 END WHERE seq < 0",
        ],
        4,
        "unlinked",
    ),
}


@pytest.mark.parametrize("kind", TAMPERING)
def test_tampering_is_found_at_the_first_broken_link(app, api, world, kind):
    api.as_("supervisor_a")
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AuditEntry)) > 6
    statements, seq, problem = TAMPERING[kind]
    tamper_with_audit_log(app, *statements)
    result = _verify(app)
    assert result.exit_code == 1, result.output
    assert f"audit chain broken at seq {seq} ({problem})" in result.output


def test_entries_cut_off_the_end_are_found(app, api, world):
    api.as_("supervisor_a")
    with app.app_context():
        last = db.session().scalar(select(func.max(AuditEntry.seq)))
    tamper_with_audit_log(app, f"DELETE FROM audit_entry WHERE seq = {last}")
    result = _verify(app)
    assert result.exit_code == 1
    assert f"audit chain broken at seq {last} (truncated)" in result.output


def _fieldcheck(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FIELDCHECK_")} | env
    command = [sys.executable, "-m", "server.cli", *args]
    return subprocess.run(command, cwd=cwd, env=clean, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("command", [("audit", "verify"), ("sweep",)])
def test_a_command_without_a_database_refuses_and_creates_no_keys(tmp_path, command):
    instance = tmp_path / "somewhere-else" / "instance"
    result = _fieldcheck(tmp_path, {"FIELDCHECK_INSTANCE_PATH": str(instance)}, *command)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"no FieldCheck database at {instance / 'fieldcheck.db'}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not instance.exists()
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_database_is_could_not_check_not_tampered(tmp_path):
    keys = {
        "FIELDCHECK_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere?connect_timeout=2",
        "FIELDCHECK_SECRET_KEY": "k" * 32,
        "FIELDCHECK_DATA_KEY": base64.b64encode(b"d" * 32).decode(),
        "FIELDCHECK_INSTANCE_PATH": str(tmp_path),
    }
    result = _fieldcheck(tmp_path, keys, "audit", "verify")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "could not read the audit log, so nothing was checked" in result.stderr


def test_the_default_instance_is_the_projects_wherever_the_command_runs():
    assert default_instance_path() == Path(__file__).resolve().parent.parent / "instance"
