"""Imports: roster, death records and cycle evidence as CSV, each run as a job (the API's), with a progress
page that reloads itself and then the per-row report, as a table and as a CSV file."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import asdict, is_dataclass

from flask import Blueprint, Response, g, redirect, render_template, request, url_for

from server import db
from server.db import PageRequest
from server.models import JobState
from server.queue import enqueue
from server.services import cycles, imports, jobs
from server.services.errors import DomainError
from server.services.spreadsheet_cells import neutral
from server.web.access import REVIEWERS, ctx, staff_page
from server.web.formatting import word
from server.web.lists import page_number
from server.web.words import reason_text

bp = Blueprint("imports", __name__)
KINDS = {"roster": imports.ROSTER, "deaths": imports.DEATHS, "evidence": imports.EVIDENCE}
NAMES = {job_kind: name for name, job_kind in KINDS.items()}
PAGE_SIZE = 200
# Seconds between reloads of the progress page: a meta refresh, which every office browser follows.
REFRESH_SECONDS = 3


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


@bp.get("/imports", endpoint="imports")
@staff_page(*REVIEWERS)
@db.transaction
def imports_page():
    context = ctx()
    visible, _ = cycles.list_cycles(context, actor=g.actor, page=PageRequest(limit=50))
    recent = jobs.recent_jobs(context, actor=g.actor, kinds=imports.KINDS, limit=10)
    return render_template("imports/imports.html", cycles=visible, recent=recent, names=NAMES)


@bp.post("/imports/<any(roster, deaths, evidence):kind>")
@staff_page(*REVIEWERS)
def upload(kind: str):
    # No @db.transaction: the job commits in its own unit before the worker is told (as the API's imports).
    context = ctx()
    data = _upload()
    params = {}
    if kind == "evidence":
        try:
            cycle_id = uuid.UUID(request.form.get("cycle_id", ""))
        except ValueError as exc:
            raise DomainError.field("cycle_id", "required") from exc
        params["cycle_id"] = str(cycles.get_cycle(context, actor=g.actor, cycle_id=cycle_id).id)
    job = jobs.start_job(
        context, actor=g.actor, kinds=imports.KINDS, kind=KINDS[kind], data=data, params=params, ring=enqueue
    )
    return redirect(url_for(".job_page", job_id=job.id), 303)


# The counts as a person reads them: what happened to the rows first, what was refused last.
COUNT_ORDER = ("created", "updated", "unchanged", "case_opened", "already_recorded", "already_terminated", "no_match")


def _report(job) -> dict:
    summary = imports.summary(job.kind, jobs.job_result(ctx(), job=job))
    lines = _flat(summary.pop("rows"))
    rank = {name: i for i, name in enumerate(COUNT_ORDER)}
    return {"lines": lines, "counts": dict(sorted(summary.items(), key=lambda item: rank.get(item[0], len(rank))))}


@bp.get("/imports/jobs/<uuid:job_id>")
@staff_page(*REVIEWERS)
@db.transaction
def job_page(job_id: uuid.UUID):
    job = jobs.get_job(ctx(), actor=g.actor, job_id=job_id)
    values = {"job": job, "name": NAMES.get(job.kind), "refresh": None, "report": None}
    if job.state in (JobState.QUEUED, JobState.RUNNING):
        values["refresh"] = REFRESH_SECONDS
        values["percent"] = int(100 * job.done / job.total) if job.total else 0
    elif job.state == JobState.DONE:
        report = _report(job)
        every = request.args.get("rows") == "all"
        shown = report["lines"] if every else [line for line in report["lines"] if line["status"] == "error"]
        page = page_number()
        values.update(
            report=report,
            every=every,
            shown=shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
            page=page,
            pages=max(1, -(-len(shown) // PAGE_SIZE)),
            shown_total=len(shown),
        )
    return render_template("imports/job.html", **values)


@bp.get("/imports/jobs/<uuid:job_id>/report.csv")
@staff_page(*REVIEWERS)
@db.transaction
def job_report_csv(job_id: uuid.UUID):
    job = jobs.get_job(ctx(), actor=g.actor, job_id=job_id)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["row", "status", "field", "reason", "explanation"], lineterminator="\n")
    writer.writeheader()
    for line in _report(job)["lines"]:
        # The codes for a program reading the file, and the reason in words for a person.
        explanation = (
            reason_text(line["field"], line["reason"]) if line["reason"] else word(line["status"], "import_status")
        )
        writer.writerow({name: neutral(value) for name, value in {**line, "explanation": explanation}.items()})
    filename = f"import-report-{NAMES.get(job.kind, 'job')}-{job.created_at:%Y%m%d-%H%M}.csv"
    # With a BOM, so Excel on an office PC opens it as UTF-8.
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
