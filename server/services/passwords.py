"""What a staff password must be: long enough, not one of the most common, not trivial."""

from __future__ import annotations

import itertools
import string
from functools import cache

MIN_LENGTH = 10
COMMON_COUNT = 10_000
# Fewer distinct characters than this is a pattern, not a secret ("aaaaaaaaaa", "ababababab").
MIN_DISTINCT = 4


@cache
def _common() -> frozenset[str]:
    # zxcvbn (MIT) ships the 30,000 most frequent passwords of Mark Burnett's 10-million-password
    # corpus, most frequent first; the first 10,000 are the ones guessed first.
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_COUNT])


def _is_run(password: str) -> bool:
    """Every character one step from the last, the same way: "1234567890", "abcdefghij", "9876543210"."""
    steps = {ord(b) - ord(a) for a, b in itertools.pairwise(password)}
    return len(steps) == 1 and steps <= {-1, 1}


def refusal(password: str) -> str | None:
    """The reason code a password is refused for (too_short, common, trivial), or None."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    lowered = password.lower()
    # "Password2024!" is "password" with the digits and marks people add to pass a length rule.
    stem = lowered.strip(string.digits + string.punctuation + " ")
    if lowered in _common() or (stem and stem in _common()):
        return "common"
    if len(set(lowered)) < MIN_DISTINCT or _is_run(lowered):
        return "trivial"
    return None
