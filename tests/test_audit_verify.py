"""`fieldcheck audit verify` on PostgreSQL: it finds an edited, a deleted, a moved and a cut-off entry."""

import pytest
from sqlalchemy import func, select

from server import db
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
