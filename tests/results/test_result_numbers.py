"""Results are shown with the digits the lab reported, never with float noise."""

import pytest

from portal.services.result_flags import value_text
from portal.services.result_numbers import format_number, format_result, looks_reported


@pytest.mark.parametrize(
    ("value", "low", "high", "expected"),
    [
        (5.6, 4.0, 5.6, "5.6"),  # as reported
        (120.0, None, 200.0, "120"),
        (1.015, 1.005, 1.03, "1.015"),  # specific gravity: four decimals are real
        (250000.0, 150000.0, 400000.0, "250000"),
        (87.93820281, 70.0, 99.0, "88"),  # noise rounded to the range's decimals
        (87.93820281, 3.5, 5.0, "87.9"),
        (3.4837201385, 3.5, 5.0, "3.5"),
        (0.052345678, 0.0, 1.0, "0.052"),  # whole-number range: still two significant digits
        (87.93820281, None, None, "87.9"),  # no range: three significant digits
        (0.1 + 0.2, None, None, "0.3"),  # arithmetic noise is not precision
        (1234567.0, None, None, "1234567"),  # whole numbers are never noise
    ],
)
def test_values_keep_the_labs_precision(value, low, high, expected):
    assert format_result(value, low, high) == expected


def test_ten_significant_digits_never_reach_the_page():
    text = value_text(87.93820281, None, 70.0, 99.0)
    assert text == "88"
    assert len(value_text(3.4837201385, None)) <= 5


def test_what_looks_reported():
    assert looks_reported(5.6) and looks_reported(0.0042) and looks_reported(140.0)
    assert not looks_reported(87.93820281)
    assert not looks_reported(3.4837201385)


def test_format_number_without_a_range_drops_invented_zeros():
    assert format_number(0.0000100001) == "0.00001"
    assert format_number(-2.5) == "-2.5"
    assert format_number(-0.0) == "0"


def test_text_results_and_comparators_are_shown_as_sent():
    assert value_text(5.0, "<5", 4.0, 5.6) == "<5"
    assert value_text(None, "Negative") == "Negative"
