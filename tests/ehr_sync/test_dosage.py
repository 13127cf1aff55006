"""Prescriptions as written: structured R4 Dosage in words when ``text`` is absent.

The dosages follow the shapes of the R4 specification's Dosage and Timing examples (the
MedicationRequest examples and the Timing datatype's table: BID, Q4-6H PRN, for 10 days, ...).
"""

import pytest
from fhir.resources.R4B.dosage import Dosage

from ehr_sync.dosage import dosage_instructions, dosage_words

SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ORAL = {"coding": [{"system": SNOMED, "code": "26643006", "display": "Oral route"}]}
INHALED = {
    "coding": [{"system": SNOMED, "code": "447694001", "display": "Respiratory tract route"}]
}
IV = {"coding": [{"system": SNOMED, "code": "47625008", "display": "Intravenous route"}]}


def words(**dosage) -> str | None:
    return dosage_words(Dosage.model_validate(dosage))


def mg(value) -> dict:
    return {"value": value, "unit": "mg", "system": UCUM, "code": "mg"}


def test_text_as_written_wins():
    assert (
        words(
            text="6 mg PO daily for remission induction; adjust dosage to WBC count",
            timing={"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
            route=ORAL,
            doseAndRate=[{"doseQuantity": mg(6)}],
        )
        == "6 mg PO daily for remission induction; adjust dosage to WBC count"
    )


def test_every_four_to_six_hours_as_needed_for_pain():
    assert (
        words(
            timing={"repeat": {"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"}},
            asNeededCodeableConcept={
                "coding": [{"system": SNOMED, "code": "22253000", "display": "Pain"}]
            },
            route=ORAL,
            doseAndRate=[{"doseQuantity": {"value": 1, "unit": "tablet"}}],
        )
        == "1 tablet by mouth every 4 to 6 hours, as needed for pain"
    )


def test_twice_a_day_for_ten_days():
    assert (
        words(
            timing={
                "repeat": {
                    "frequency": 2,
                    "period": 1,
                    "periodUnit": "d",
                    "boundsDuration": {"value": 10, "unit": "days", "system": UCUM, "code": "d"},
                }
            },
            route=ORAL,
            doseAndRate=[{"doseQuantity": mg(500)}],
        )
        == "500 mg by mouth twice a day for 10 days"
    )


def test_dose_range_inhaled_every_six_hours_as_needed_for_wheezing():
    assert (
        words(
            timing={"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}},
            asNeededCodeableConcept={"text": "Wheezing"},
            route=INHALED,
            doseAndRate=[
                {
                    "doseRange": {
                        "low": {"value": 1, "unit": "puff"},
                        "high": {"value": 2, "unit": "puff"},
                    }
                }
            ],
        )
        == "1 to 2 puff by inhalation every 6 hours, as needed for wheezing"
    )


@pytest.mark.parametrize(
    ("code", "expected"),
    [("BID", "twice a day"), ("TID", "3 times a day"), ("Q4H", "every 4 hours")],
)
def test_timing_code_alone(code, expected):
    timing = {
        "code": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "code": code}
            ]
        }
    }
    assert words(timing=timing, doseAndRate=[{"doseQuantity": mg(250)}]) == f"250 mg {expected}"


def test_infusion_rate():
    assert (
        words(
            route=IV,
            doseAndRate=[
                {
                    "doseQuantity": {"value": 1000, "unit": "mL"},
                    "rateQuantity": {"value": 100, "unit": "mL/h"},
                }
            ],
        )
        == "1000 mL into a vein, at 100 mL/h"
    )


def test_maximum_dose_per_period():
    assert (
        words(
            timing={"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
            asNeededBoolean=True,
            doseAndRate=[{"doseQuantity": {"value": 1, "unit": "tablet"}}],
            maxDosePerPeriod={
                "numerator": {"value": 4, "unit": "tablet"},
                "denominator": {"value": 1, "system": UCUM, "code": "d"},
            },
        )
        == "1 tablet every 4 hours, as needed, no more than 4 tablet per day"
    )


def test_time_of_day_event_and_weekday():
    assert (
        words(
            timing={"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}},
            doseAndRate=[{"doseQuantity": mg(10)}],
        )
        == "10 mg once a day at bedtime"
    )
    assert (
        words(
            timing={
                "repeat": {
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "d",
                    "timeOfDay": ["08:00:00"],
                }
            },
            doseAndRate=[{"doseQuantity": mg(5)}],
        )
        == "5 mg once a day at 08:00"
    )
    assert (
        words(
            timing={
                "repeat": {"frequency": 1, "period": 1, "periodUnit": "wk", "dayOfWeek": ["mon"]}
            },
            doseAndRate=[{"doseQuantity": mg(70)}],
        )
        == "70 mg once a week on Mon"
    )


def test_unitless_dose_and_as_needed_alone_from_a_synthea_record():
    assert words(asNeededBoolean=True) == "as needed"
    assert (
        words(
            timing={"repeat": {"frequency": 3, "period": 1, "periodUnit": "d"}},
            doseAndRate=[{"doseQuantity": {"value": 1}}],
        )
        == "1 dose 3 times a day"
    )


def test_sequential_dosages_read_in_order_and_an_empty_one_says_nothing():
    first = Dosage.model_validate(
        {
            "sequence": 1,
            "timing": {
                "repeat": {
                    "frequency": 2,
                    "period": 1,
                    "periodUnit": "d",
                    "boundsDuration": {"value": 1, "code": "d", "system": UCUM},
                }
            },
            "doseAndRate": [{"doseQuantity": mg(500)}],
        }
    )
    second = Dosage.model_validate(
        {
            "sequence": 2,
            "timing": {
                "repeat": {
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "d",
                    "boundsDuration": {"value": 4, "code": "d", "system": UCUM},
                }
            },
            "doseAndRate": [{"doseQuantity": mg(250)}],
        }
    )
    assert dosage_instructions([second, first]) == (
        "500 mg twice a day for 1 day; then 250 mg once a day for 4 days"
    )
    assert dosage_instructions([Dosage.model_validate({"sequence": 1})]) is None
    assert dosage_instructions(None) is None
