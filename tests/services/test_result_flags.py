import pytest

from portal.services.result_flags import range_text, result_flag, value_text


@pytest.mark.parametrize(
    ("value", "value_string", "low", "high", "interpretation", "expected"),
    [
        (5.0, None, 4.0, 5.6, None, ""),
        (5.6, None, 4.0, 5.6, None, ""),  # the bounds are inside the range
        (5.7, None, 4.0, 5.6, None, "High"),
        (3.9, None, 4.0, 5.6, None, "Low"),
        (5.0, None, 4.0, 5.6, "H", "High"),  # the lab's flag wins
        (5.0, None, 4.0, 5.6, "l", "Low"),  # case does not matter
        (9.0, None, 4.0, 5.6, "HH", "Critical high"),
        (1.0, None, 4.0, 5.6, "LL", "Critical low"),
        (None, "Positive", None, None, "A", "Abnormal"),
        (None, "Negative", None, None, "N", ""),
        (9.0, None, 4.0, 5.6, "N", "High"),  # a number outside the range is never "normal"
        (9.0, None, None, None, None, ""),  # no range, no flag
        (150.0, None, None, 100.0, None, "High"),  # one-sided range
        (5.0, "<5", None, 3.0, None, ""),  # "<5" may well be under 3
        (5.0, "<5", 5.0, None, None, "Low"),  # below 5 means below the low bound 5
        (200.0, ">200", None, 200.0, None, "High"),
        (0.1, "<0.1", None, 1.0, None, ""),
    ],
)
def test_result_flag(value, value_string, low, high, interpretation, expected):
    flag = result_flag(
        value=value,
        value_string=value_string,
        ref_low=low,
        ref_high=high,
        interpretation=interpretation,
    )
    assert flag == expected


def test_value_text_keeps_the_labs_comparator():
    assert value_text(5.0, "<5") == "<5"
    assert value_text(120.0, None) == "120"
    assert value_text(0.1 + 0.2, None) == "0.3"
    assert value_text(None, None) == ""


def test_range_text():
    assert range_text(4.0, 5.6) == "4–5.6"
    assert range_text(60, None) == "≥ 60"
    assert range_text(None, 200) == "≤ 200"
    assert range_text(None, None) == ""
