"""One spelling per unit, and conversions only where the factor is known."""

import pytest

from portal.services.results_units import convert, same_unit, unit_key


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("mL/min/{1.73_m2}", "mL/min/1.73m2"),
        ("mL/min/1.73 m2", "mL/min/1.73m2"),
        ("[pH]", "pH"),
        ("mg/dl", "mg/dL"),
        ("µmol/L", "umol/L"),
        ("K/uL", "10*3/uL"),
        ("beats/min", "/min"),
        ("mm[Hg]", "mmHg"),
    ],
)
def test_spellings_of_one_unit_are_the_same_unit(a, b):
    assert same_unit(a, b)


def test_different_units_are_not_the_same():
    assert not same_unit("mg/dL", "mmol/L")
    assert not same_unit("", "mg/dL")
    assert unit_key(None) == ""


@pytest.mark.parametrize(
    ("analyte", "value", "source", "target", "expected"),
    [
        ("glucose", 5.5, "mmol/L", "mg/dL", 99.09),
        ("glucose", 99.0, "mg/dL", "mmol/L", 5.495),
        ("cholesterol", 5.0, "mmol/L", "mg/dL", 193.3),
        ("ldl", 100.0, "mg/dL", "mmol/L", 2.586),
        ("triglycerides", 150.0, "mg/dL", "mmol/L", 1.694),
        ("creatinine", 1.0, "mg/dL", "umol/L", 88.40),
        ("hemoglobin", 13.5, "g/dL", "g/L", 135.0),
        ("a1c", 7.0, "%", "mmol/mol", 53.0),
        ("a1c", 53.0, "mmol/mol", "%", 7.0),
        ("temperature", 98.6, "[degF]", "Cel", 37.0),
        ("weight", 154.0, "[lb_av]", "kg", 69.85),
        ("sodium", 140.0, "meq/L", "mmol/L", 140.0),
        ("uacr", 30.0, "mg/g", "mg/mmol", 3.394),
        ("egfr", 60.0, "mL/min/{1.73_m2}", "mL/min/1.73m2", 60.0),
    ],
)
def test_known_conversions(analyte, value, source, target, expected):
    assert convert(analyte, value, source, target) == pytest.approx(expected, rel=1e-3)


def test_no_conversion_without_a_known_factor():
    # Mass to moles needs the molar mass: unknown analyte, no conversion.
    assert convert(None, 100.0, "mg/dL", "mmol/L") is None
    assert convert("hemoglobin", 13.5, "g/dL", "mmol/L") is None
    # mEq/L is mmol/L only for ions of charge one (calcium is two).
    assert convert("calcium", 5.0, "meq/L", "mmol/L") is None
    assert convert("glucose", 5.0, "", "mg/dL") is None
    assert convert("weight", 70.0, "kg", "mg/dL") is None
