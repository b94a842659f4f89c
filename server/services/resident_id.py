"""China's 18-digit resident identity number (GB 11643-1999)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_SHAPE = re.compile(r"^\d{17}[\dX]$")
# Old enough for the standard's own 1880 example; earlier dates are typing errors.
EARLIEST_BIRTH_YEAR = 1850


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
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidResidentId("invalid_birth_date") from exc
    if born.year < EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        raise InvalidResidentId("invalid_birth_date")
    if check_character(number[:17]) != number[17]:
        raise InvalidResidentId("bad_check_digit")
    return ResidentId(number=number, birth_date=born)
