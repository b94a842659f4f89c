"""Imports: roster, death records and cycle evidence as CSV, each answered with its per-row report."""

from __future__ import annotations

import base64
import csv
import io
import uuid
from dataclasses import asdict, is_dataclass

from flask import Blueprint, g, render_template, request

from server import db
from server.services import beneficiaries, cycles, deaths, evidence, roster_csv
from server.services.errors import DomainError
from server.web.access import REVIEWERS, ctx, staff_page

bp = Blueprint("imports", __name__)


def _upload() -> bytes:
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise DomainError.field("file", "missing_file")
    return upload.read()


def _flat(rows: list) -> list[dict]:
    """One line per (row, field, reason), a row without errors as one line."""
    lines = []
    for row in rows:
        row = asdict(row) if is_dataclass(row) else row
        for error in row.get("errors") or [{"field": "", "reason": ""}]:
            lines.append(
                {"row": row["row"], "status": row["status"], "field": error["field"], "reason": error["reason"]}
            )
    return lines


def _csv_link(lines: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["row", "status", "field", "reason"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines)
    # A data: link, so the report can be saved without keeping it on the server.
    return "data:text/csv;base64," + base64.b64encode(buffer.getvalue().encode("utf-8-sig")).decode()


def _page(**values):
    visible, _ = cycles.list_cycles(ctx(), actor=g.actor, offset=0, limit=50)
    return render_template("imports/imports.html", cycles=visible, **values)


@bp.get("/imports")
@staff_page(*REVIEWERS)
def imports():
    return _page(report=None)


@bp.post("/imports/<any(roster, deaths, evidence):kind>")
@staff_page(*REVIEWERS)
def upload(kind: str):
    context = ctx()
    data = _upload()
    if kind == "roster":
        # The roster import commits every few hundred rows itself (one unit each): no unit around it.
        summary = roster_csv.summarise(
            beneficiaries.import_roster(context, actor=g.actor, rows=roster_csv.read_roster(data))
        )
    else:
        with db.unit_of_work(context.session):
            if kind == "deaths":
                summary = deaths.import_deaths(context, actor=g.actor, rows=deaths.read_death_records(data))
            else:
                cycle = cycles.get_cycle(context, actor=g.actor, cycle_id=uuid.UUID(request.form["cycle_id"]))
                summary = evidence.summarise(
                    evidence.import_evidence(context, actor=g.actor, cycle=cycle, rows=evidence.read_evidence(data))
                )
    lines = _flat(summary.pop("rows"))
    return _page(report={"kind": kind, "counts": summary, "lines": lines, "csv": _csv_link(lines)})
