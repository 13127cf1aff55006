import math

import pytest

from portal.errors import InvalidInput
from portal.services.readings import units


def test_pounds_become_kilograms():
    assert units.to_canonical(units.WEIGHT, 165, "lb") == pytest.approx(74.843, abs=0.001)
    assert units.to_canonical(units.WEIGHT, 165, "LBS") == pytest.approx(74.843, abs=0.001)
    assert units.to_canonical(units.WEIGHT, 70, "kg") == 70


def test_mmol_glucose_becomes_mg_per_dl_including_apple_health_spelling():
    assert units.to_canonical(units.GLUCOSE, 5.5, "mmol/L") == pytest.approx(99.09, abs=0.01)
    apple = units.to_canonical(units.GLUCOSE, 5.5, "mmol<180.1558800000541>/L")
    assert apple == pytest.approx(99.09, abs=0.01)
    assert units.to_canonical(units.GLUCOSE, 99, "mg/dL") == 99


def test_blood_pressure_in_kpa_and_ucum_mmhg():
    assert units.to_canonical(units.BLOOD_PRESSURE, 16, "kPa") == pytest.approx(120.0, abs=0.1)
    assert units.to_canonical(units.BLOOD_PRESSURE, 120, "mm[Hg]") == 120


def test_unknown_unit_is_refused_with_the_units_that_work():
    with pytest.raises(InvalidInput) as error:
        units.to_canonical(units.WEIGHT, 10, "stone")
    assert "Use kg, lb" in error.value.user_message


def test_empty_unit_means_the_canonical_one():
    assert units.to_canonical(units.HEART_RATE, 72, "") == 72


def test_from_canonical_reverses_the_conversion_and_refuses_unknown_units():
    assert units.from_canonical(units.WEIGHT, 74.843, "lb") == pytest.approx(165, abs=0.01)
    assert units.from_canonical(units.HEART_RATE, 72, "beats/min") == 72
    assert units.from_canonical(units.WEIGHT, 70, "furlongs") is None


@pytest.mark.parametrize(
    ("measure", "value", "value2", "fragment"),
    [
        (units.WEIGHT, 0.5, None, "outside what we can accept"),
        (units.WEIGHT, 401, None, "outside what we can accept"),
        (units.SPO2, 101, None, "outside what we can accept"),
        (units.HEART_RATE, math.nan, None, "outside what we can accept"),
        (units.BLOOD_PRESSURE, 120, None, "both numbers"),
        (units.BLOOD_PRESSURE, 80, 120, "must be higher"),
        (units.BLOOD_PRESSURE, 120, 10, "diastolic"),
    ],
)
def test_implausible_values_are_refused(measure, value, value2, fragment):
    with pytest.raises(InvalidInput) as error:
        units.check_plausible(measure, value, value2)
    assert fragment in error.value.user_message


def test_plausible_edges_are_accepted():
    units.check_plausible(units.WEIGHT, 1)
    units.check_plausible(units.WEIGHT, 400)
    units.check_plausible(units.SPO2, 100)
    units.check_plausible(units.BLOOD_PRESSURE, 121, 120)


def test_display_of_blood_pressure_and_heart_rate():
    assert units.display(units.BLOOD_PRESSURE, 120.0, 80.0) == "120/80 mmHg"
    assert units.display(units.HEART_RATE, 71.6) == "72 bpm"
    assert units.display(units.WEIGHT, 74.84) == "74.8 kg"


def test_unknown_measure_is_refused():
    with pytest.raises(InvalidInput):
        units.measure("cholesterol")
