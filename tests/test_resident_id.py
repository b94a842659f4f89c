"""The resident ID number rules of GB 11643-1999, checked against the standard's published examples."""

from datetime import date

import pytest

from server.services.resident_id import InvalidResidentId, check_character, parse_resident_id

# Examples printed in GB 11643-1999 and widely reproduced; both are valid numbers.
STANDARD_EXAMPLES = ["11010519491231002X", "440524188001010014"]


@pytest.mark.parametrize("number", STANDARD_EXAMPLES)
def test_published_examples_are_valid(number):
    assert parse_resident_id(number).number == number


def test_lowercase_x_and_spaces_are_normalised():
    assert parse_resident_id(" 11010519491231002x ").number == "11010519491231002X"


def test_birth_date_is_read_from_the_number():
    assert parse_resident_id("11010519491231002X").birth_date == date(1949, 12, 31)


def test_masked_form_shows_only_prefix_and_last_four():
    assert parse_resident_id("11010519491231002X").masked == "1101**********002X"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "bad_check_digit"),
        ("11010519491331002X", "invalid_birth_date"),
        ("110105184912310027", "invalid_birth_date"),
        ("11010519491231002", "malformed"),
        ("1101051949123100XX", "malformed"),
        ("", "malformed"),
    ],
)
def test_invalid_numbers_name_their_reason(number, reason):
    with pytest.raises(InvalidResidentId) as caught:
        parse_resident_id(number)
    assert caught.value.reason == reason


def test_future_birth_dates_are_refused():
    with pytest.raises(InvalidResidentId) as caught:
        parse_resident_id("11010519491231002X", today=date(1949, 12, 30))
    assert caught.value.reason == "invalid_birth_date"


def _numbered(prefix: str) -> str:
    first17 = f"{prefix}19450312001"
    return first17 + check_character(first17)


@pytest.mark.parametrize("prefix", ["999999", "000000", "990101", "193001"])
def test_a_prefix_that_is_no_division_is_refused(prefix):
    with pytest.raises(InvalidResidentId) as caught:
        parse_resident_id(_numbered(prefix))
    assert caught.value.reason == "unknown_division"


# 440524 (the standard's example) was abolished in 2003 and 431099 is the test county: both lie in
# prefectures that exist, as every code a real card carries does. 830000: a Taiwan residence permit.
@pytest.mark.parametrize("prefix", ["440524", "431099", "430902", "830000"])
def test_a_prefix_in_a_real_prefecture_is_accepted_even_if_the_county_was_renumbered(prefix):
    assert parse_resident_id(_numbered(prefix)).number == _numbered(prefix)
