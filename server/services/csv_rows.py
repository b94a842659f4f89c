"""Reading an office's CSV export into validated rows: the encodings Excel writes, a checked header."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from marshmallow import Schema, ValidationError

from server.services.errors import DomainError


def decode_csv(data: bytes) -> str:
    # Offices export from Excel: UTF-8 with a BOM, or GB18030 (a superset of GBK) on Chinese Windows.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError.field("file", "unknown_encoding", "save the file as UTF-8 or GB18030 CSV")


def read_rows(
    data: bytes, schema: Schema, *, required: Sequence[str], what: str
) -> Iterator[tuple[int, dict[str, Any], bool]]:
    """Yield (line number, the row loaded by schema or its field errors, valid) for each non-empty row.

    The header is checked before any row is read: a column that is missing or that the schema does
    not know refuses the whole file, so a wrong export never half-imports.
    """
    text = decode_csv(data)
    _check_parses(text)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in header]
    unknown = [name for name in header if name not in schema.fields]
    if missing or unknown:
        errors = {name: ["missing_column"] for name in missing} | {name: ["unknown_column"] for name in unknown}
        raise DomainError(f"the CSV header does not match the {what} format", errors)
    reader.fieldnames = header
    return _rows(reader, schema)


def _check_parses(text: str) -> None:
    """Refuse the whole file, before any row is imported, if the csv module cannot read all of it
    (a field over its 131,072-character limit)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for _ in reader:
            pass
    except csv.Error as exc:
        raise DomainError.field("file", "malformed_csv", f"line {reader.line_num}: {exc}") from exc


def _rows(reader: csv.DictReader, schema: Schema) -> Iterator[tuple[int, dict[str, Any], bool]]:
    for record in reader:
        cells = {name: value.strip() for name, value in record.items() if name and value and value.strip()}
        if not cells:
            continue
        try:
            yield reader.line_num, schema.load(cells), True
        except ValidationError as exc:
            yield reader.line_num, exc.normalized_messages(), False


def count_rows(data: bytes) -> int:
    """How many rows `read_rows` yields, without loading them (for a job's progress)."""
    reader = csv.reader(io.StringIO(decode_csv(data), newline=""))
    next(reader, None)
    return sum(1 for record in reader if any(cell.strip() for cell in record))
