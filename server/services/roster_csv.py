"""Reading a roster CSV into rows the registry can import, and summarising the result."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from server.schemas.beneficiary import BeneficiaryCreateSchema
from server.services.beneficiaries import ImportReport
from server.services.csv_rows import read_rows

REQUIRED_COLUMNS = ("id_number", "name", "program", "village_code", "monthly_amount")
_row_schema = BeneficiaryCreateSchema()


def read_roster(data: bytes) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """Yield (line number, loaded row or field errors, valid) for each data row of a roster CSV."""
    return read_rows(data, _row_schema, required=REQUIRED_COLUMNS, what="roster")


def summarise(report: ImportReport) -> dict[str, Any]:
    """Counts per outcome and every row's result."""
    return {
        "created": report.count("created"),
        "updated": report.count("updated"),
        "unchanged": report.count("unchanged"),
        "failed": report.count("error"),
        "rows": [asdict(row) for row in report.rows],
    }
