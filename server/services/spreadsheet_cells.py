"""Cells for CSV and XLSX exports that a spreadsheet shows as text, never runs as a formula."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# What Excel, LibreOffice and Google Sheets read as the start of a formula (OWASP's CSV injection list).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: Any) -> Any:
    """A text cell that would start a formula, prefixed with an apostrophe; any other value as it is.

    Only text is touched: a negative amount stays a number.
    """
    if isinstance(value, str) and value.startswith(FORMULA_LEADS):
        return "'" + value
    return value


def neutral_row(row: Iterable[Any]) -> list[Any]:
    return [neutral(value) for value in row]
