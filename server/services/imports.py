"""The CSV imports as jobs: roster, death records and cycle evidence, each a `jobs.JobKind`; `KINDS` also
holds the other long work that runs as a job (the payment run's build).

The API stores the upload and answers 202 with the job; the worker imports it in batches. The CLI
runs the same kinds in-process through `jobs.run_job`, so both paths share one import.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from typing import Any

from server.context import Ctx
from server.models import Cycle
from server.services import beneficiaries, deaths, evidence, payments, roster_csv
from server.services.audit import Actor
from server.services.csv_rows import count_rows
from server.services.jobs import JobKind

ROSTER, DEATHS, EVIDENCE = "roster_import", "death_import", "evidence_import"


def _as_json(results) -> list[dict[str, Any]]:
    return [{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in asdict(r).items()} for r in results]


class RosterImport:
    batch_size = beneficiaries.IMPORT_BATCH

    def check(self, data: bytes, params: Mapping[str, Any]) -> None:
        roster_csv.read_roster(data)

    def items(self, data: bytes, params: Mapping[str, Any]) -> Iterator[Any]:
        return roster_csv.read_roster(data)

    def count(self, data: bytes, params: Mapping[str, Any]) -> int:
        return count_rows(data)

    def process(self, ctx: Ctx, actor: Actor, params: Mapping[str, Any], batch: list[Any]) -> list[dict]:
        return _as_json(beneficiaries.import_roster_batch(ctx, actor=actor, rows=batch))


class DeathImport:
    batch_size = 200

    def check(self, data: bytes, params: Mapping[str, Any]) -> None:
        deaths.read_death_records(data)

    def items(self, data: bytes, params: Mapping[str, Any]) -> Iterator[Any]:
        return deaths.read_death_records(data)

    def count(self, data: bytes, params: Mapping[str, Any]) -> int:
        return count_rows(data)

    def process(self, ctx: Ctx, actor: Actor, params: Mapping[str, Any], batch: list[Any]) -> list[dict]:
        return _as_json(deaths.import_death_batch(ctx, actor=actor, rows=batch))


class EvidenceImport:
    batch_size = 500

    def check(self, data: bytes, params: Mapping[str, Any]) -> None:
        evidence.read_evidence(data)

    def items(self, data: bytes, params: Mapping[str, Any]) -> Iterator[Any]:
        return iter(evidence.read_evidence(data))

    def count(self, data: bytes, params: Mapping[str, Any]) -> int:
        return count_rows(data)

    def process(self, ctx: Ctx, actor: Actor, params: Mapping[str, Any], batch: list[Any]) -> list[dict]:
        cycle = ctx.session.get(Cycle, uuid.UUID(params["cycle_id"]))
        return _as_json(evidence.import_evidence_batch(ctx, actor=actor, cycle=cycle, rows=batch))


KINDS: dict[str, JobKind] = {
    ROSTER: RosterImport(),
    DEATHS: DeathImport(),
    EVIDENCE: EvidenceImport(),
    payments.BUILD: payments.RunBuild(),
}


def summary(kind: str, result: dict[str, Any]) -> dict[str, Any]:
    """A finished import's report in the shape the synchronous import had: counts and every row."""
    rows = result["rows"]
    if kind == DEATHS:
        return deaths.summarise(rows)
    counts = result["counts"]
    report = {status: counts.get(status, 0) for status in ("created", "unchanged")}
    report["failed"] = counts.get("error", 0)
    if kind == ROSTER:
        report["updated"] = counts.get("updated", 0)
    return report | {"rows": rows}
