"""How many digits a result is shown with: as the lab reported it, never float noise.

An EHR sends a decimal ("5.6", "87"); stored as a float it comes back as the same shortest text,
so a short value is shown exactly as reported. Some EHRs (and computed results such as eGFR or a
unit conversion) send values like 87.93820281: no lab measures that precisely, so such a value is
rounded to the decimals of its reference range (the lab's own precision for that test), and
without a range to three significant digits.
"""

import math
from decimal import Decimal

# A reported value has at most this many significant digits and decimals; past that it is noise.
MAX_REPORTED_DIGITS = 6
MAX_REPORTED_DECIMALS = 4
# Without a reference range, noisy values keep this many significant digits.
FALLBACK_SIGNIFICANT = 3
# Even a range with whole numbers must not flatten a small value to 0: keep two digits.
MIN_SIGNIFICANT = 2


def _plain(value: float) -> str:
    """The shortest text that reads back as ``value``, without an exponent ('1e-05')."""
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def decimals_of(value: float) -> int:
    """Decimals of the shortest text of ``value``: 5.6 -> 1, 120.0 -> 0, 0.05 -> 2."""
    text = _plain(value)
    return len(text.split(".")[1]) if "." in text else 0


def _significant_digits(value: float) -> int:
    return len(_plain(abs(value)).replace(".", "").lstrip("0"))


def _denoised(value: float) -> float:
    """0.1 + 0.2 -> 0.3: arithmetic noise in the last bits is not precision."""
    return float(f"{value:.12g}")


def looks_reported(value: float) -> bool:
    """True when ``value`` reads like a lab's number, not like float noise."""
    value = _denoised(value)
    if value.is_integer():
        return True
    return (
        decimals_of(value) <= MAX_REPORTED_DECIMALS
        and _significant_digits(value) <= MAX_REPORTED_DIGITS
    )


def _decimals_for_significant(value: float, significant: int) -> int:
    if value == 0:
        return 0
    magnitude = math.floor(math.log10(abs(value)))
    return max(0, significant - 1 - magnitude)


def _fixed(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}"
    return "0" if float(text) == 0 else text


def format_number(value: float) -> str:
    """A number with no range to go by: as reported, or three significant digits when noisy."""
    if looks_reported(value):
        return _plain(_denoised(value))
    # No precision is known, so trailing zeros would claim one: 0.0000100 -> 0.00001.
    return _plain(float(_fixed(value, _decimals_for_significant(value, FALLBACK_SIGNIFICANT))))


def format_result(value: float, ref_low: float | None = None, ref_high: float | None = None) -> str:
    """A result as the lab reported it, or rounded to its reference range's decimals if noisy."""
    if looks_reported(value):
        return _plain(_denoised(value))
    return format_computed(value, ref_low, ref_high)


def format_computed(
    value: float, ref_low: float | None = None, ref_high: float | None = None
) -> str:
    """A number the portal computed (a unit conversion): the range's decimals, as a lab would."""
    ends = [end for end in (ref_low, ref_high) if end is not None and looks_reported(end)]
    if not ends:
        return format_number(value)
    decimals = max(decimals_of(end) for end in ends)
    return _fixed(value, max(decimals, _decimals_for_significant(value, MIN_SIGNIFICANT)))
