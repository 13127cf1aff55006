"""How a result is judged and written: the abnormal flag, the value text and the range text."""

from portal.services.result_numbers import format_number, format_result

# FHIR ObservationInterpretation codes that mean "outside normal", with the word a patient reads.
# Codes not listed here (N, normal; susceptibility codes S/R/I; POS/NEG) never flag on their own.
INTERPRETATION_FLAGS = {
    "H": "High",
    "HU": "Very high",
    "HH": "Critical high",
    ">": "Above measurable range",
    "L": "Low",
    "LU": "Very low",
    "LL": "Critical low",
    "<": "Below measurable range",
    "A": "Abnormal",
    "AA": "Critical abnormal",
}

_COMPARATORS = ("<=", ">=", "<", ">")


def value_text(
    value: float | None,
    value_string: str | None,
    ref_low: float | None = None,
    ref_high: float | None = None,
) -> str:
    """What the lab reported: the text form wins, because it keeps comparators such as '<5'.

    A bare number is shown with the digits the lab reported (see result_numbers), using the
    reference range's decimals when the stored number carries float noise.
    """
    if value_string:
        return value_string
    return format_result(value, ref_low, ref_high) if value is not None else ""


def range_text(ref_low: float | None, ref_high: float | None) -> str:
    if ref_low is not None and ref_high is not None:
        return f"{format_number(ref_low)}–{format_number(ref_high)}"
    if ref_low is not None:
        return f"≥ {format_number(ref_low)}"
    if ref_high is not None:
        return f"≤ {format_number(ref_high)}"
    return ""


def comparator_of(value_string: str | None) -> str:
    """The comparator a lab put before a number ('<5' -> '<'), else ''."""
    text = (value_string or "").strip()
    return next((c for c in _COMPARATORS if text.startswith(c)), "")


def _range_flag(
    value: float | None, comparator: str, ref_low: float | None, ref_high: float | None
) -> str:
    """High/Low from the range. A value like '<5' is only known to be low, never high."""
    if value is None:
        return ""
    # '<5' means "some value below 5": it can prove low but never high, and '>200' the reverse.
    above = ref_high is not None and (value > ref_high or (comparator == ">" and value == ref_high))
    below = ref_low is not None and (value < ref_low or (comparator == "<" and value == ref_low))
    if above and comparator in ("", ">", ">="):
        return "High"
    if below and comparator in ("", "<", "<="):
        return "Low"
    return ""


def result_flag(
    *,
    value: float | None,
    value_string: str | None,
    ref_low: float | None,
    ref_high: float | None,
    interpretation: str | None,
) -> str:
    """'' when nothing is abnormal, else a word such as 'High' or 'Critical low'.

    The lab's own interpretation wins when it flags; otherwise a value outside the reference range
    flags too (even when the lab wrote N), because a patient should never see an out-of-range
    number presented as normal.
    """
    code = (interpretation or "").strip().upper()
    if code in INTERPRETATION_FLAGS:
        return INTERPRETATION_FLAGS[code]
    return _range_flag(value, comparator_of(value_string), ref_low, ref_high)
