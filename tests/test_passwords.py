"""Staff passwords: long enough, not among the 10,000 most common, not a repeated or running pattern."""

import pytest

from server.services import passwords
from server.services.errors import DomainError
from server.services.staff import check_password


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "too_short"),
        ("aaaaaaaaaa", "trivial"),
        ("ababababab", "trivial"),
        ("1234567890", "common"),
        ("qwertyuiop", "common"),
        ("abcdefghijk", "trivial"),
        ("9876543210", "trivial"),
        ("Password2024!", "common"),
        ("iloveyou12", "common"),
    ],
)
def test_common_and_trivial_passwords_are_refused_with_their_reason(password, reason):
    assert passwords.refusal(password) == reason
    with pytest.raises(DomainError) as refused:
        check_password(password)
    assert refused.value.errors == {"password": [reason]}


@pytest.mark.parametrize("password", ["correct horse battery staple", "tX9#mq2Lwz", "青山村低保核查2026"])
def test_a_long_uncommon_password_is_accepted(password):
    assert passwords.refusal(password) is None


def test_the_list_has_the_ten_thousand_most_common():
    assert len(passwords._common()) == passwords.COMMON_COUNT
