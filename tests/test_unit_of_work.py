"""Transactions have one owner: no service commits except through the unit of work in server/db.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from server import db
from server.models import Region

SERVICES = Path(__file__).resolve().parents[1] / "server" / "services"
CONSOLE = SERVICES.parent / "web"


def _commits(path: Path) -> list[str]:
    """Calls of .commit() (or .rollback(), its twin) in a module, as 'file:line'."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        called = node.func if isinstance(node, ast.Call) else None
        if isinstance(called, ast.Attribute) and called.attr in ("commit", "rollback"):
            found.append(f"{path.relative_to(SERVICES.parent.parent)}:{node.lineno}")
    return found


def test_no_service_commits_outside_the_unit_of_work():
    modules = sorted(SERVICES.rglob("*.py"))
    assert len(modules) > 20
    assert [hit for module in modules for hit in _commits(module)] == []


def test_no_console_page_commits_outside_the_unit_of_work():
    # Console pages are use cases like routes: `@db.transaction` or `with db.unit_of_work(...)`, never commit().
    modules = sorted(CONSOLE.rglob("*.py"))
    assert len(modules) > 10
    assert [hit for module in modules for hit in _commits(module)] == []


def test_a_unit_of_work_commits_on_success_and_rolls_back_on_error(app):
    with app.app_context():
        with db.unit_of_work(db.session()) as session:
            session.add(Region(code="439901", name="unit of work", level="county"))
        with pytest.raises(RuntimeError), db.unit_of_work(db.session()) as session:
            session.add(Region(code="439902", name="rolled back", level="county"))
            raise RuntimeError("boom")
    with app.app_context():
        codes = set(db.session().scalars(select(Region.code).where(Region.code.in_(["439901", "439902"]))))
    assert codes == {"439901"}


def test_units_do_not_nest_and_early_commits_need_a_named_reason(app):
    with app.app_context():
        session = db.session()
        with db.unit_of_work(session), pytest.raises(RuntimeError), db.unit_of_work(session):
            pass
        with pytest.raises(ValueError):
            db.commit_early(session, "because")
