"""Reading a roster CSV into rows the registry can import, and summarising the result."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from marshmallow import ValidationError

from server.schemas.beneficiary import BeneficiaryCreateSchema
from server.services.beneficiaries import ImportReport
from server.services.errors import DomainError

REQUIRED_COLUMNS = ("id_number", "name", "program", "village_code", "monthly_amount")
_row_schema = BeneficiaryCreateSchema()
ALLOWED_COLUMNS = frozenset(_row_schema.fields)


def decode_csv(data: bytes) -> str:
    # Offices export from Excel: UTF-8 with a BOM, or GB18030 (a superset of GBK) on Chinese Windows.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError.field("file", "unknown_encoding", "save the file as UTF-8 or GB18030 CSV")


def read_roster(data: bytes) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """Yield (line number, loaded row or field errors, valid) for each data row of a roster CSV."""
    reader = csv.DictReader(io.StringIO(decode_csv(data), newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in ALLOWED_COLUMNS]
    if missing or unknown:
        errors = {name: ["missing_column"] for name in missing} | {name: ["unknown_column"] for name in unknown}
        raise DomainError("the CSV header does not match the roster format", errors)
    reader.fieldnames = header
    return _rows(reader)


def _rows(reader: csv.DictReader) -> Iterator[tuple[int, dict[str, Any], bool]]:
    for record in reader:
        cells = {name: value.strip() for name, value in record.items() if name and value and value.strip()}
        if not cells:
            continue
        try:
            yield reader.line_num, _row_schema.load(cells), True
        except ValidationError as exc:
            yield reader.line_num, exc.normalized_messages(), False


def summarise(report: ImportReport) -> dict[str, Any]:
    """Counts per outcome and every row's result."""
    return {
        "created": report.count("created"),
        "updated": report.count("updated"),
        "unchanged": report.count("unchanged"),
        "failed": report.count("error"),
        "rows": [asdict(row) for row in report.rows],
    }
