import json

import pytest
from sqlmodel import select

from db.models import PatientReading
from portal.services.readings import entry, units
from portal.services.readings.entry import ImportRefused, ReadingInput, Refusal
from portal.services.readings.fhir_import import parse_fhir
from tests.readings.helpers import make_people


def _obs(code, quantity=None, when="2026-11-20T08:00:00-05:00", **extra):
    resource = {
        "resourceType": "Observation",
        "id": f"o-{code}-{when[:13]}",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "effectiveDateTime": when,
    }
    if quantity:
        resource["valueQuantity"] = quantity
    resource.update(extra)
    return {"resource": resource}


def _bp(systolic, diastolic):
    def part(code, value):
        return {
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "valueQuantity": {"value": value, "unit": "mmHg", "code": "mm[Hg]"},
        }

    return _obs("85354-9", component=[part("8480-6", systolic), part("8462-4", diastolic)])


BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        _bp(132, 84),
        _obs("29463-7", {"value": 165, "unit": "lb", "code": "[lb_av]"}),
        _obs("15074-8", {"value": 6.1, "unit": "mmol/L"}),
        _obs("8867-4", {"value": 64, "code": "/min"}, when="2026-11-21T07:00:00Z"),
        _obs("8867-4", {"value": "fast"}),
        _obs("8867-4", {"value": 70, "unit": "/min"}, status="entered-in-error"),
        _obs("2093-3", {"value": 180, "unit": "mg/dL"}),
        {"resource": {"resourceType": "Patient", "id": "p1"}},
        _obs("8480-6", {"value": 120, "unit": "mmHg"}),
    ],
}


def test_bundle_entries_become_readings_or_refusals_with_reasons():
    items = list(parse_fhir(json.dumps(BUNDLE).encode()))
    readings = [i for i in items if isinstance(i, ReadingInput)]
    refusals = {i.where: i.reason for i in items if isinstance(i, Refusal)}
    assert [r.measure for r in readings] == [
        units.BLOOD_PRESSURE,
        units.WEIGHT,
        units.GLUCOSE,
        units.HEART_RATE,
    ]
    assert (readings[0].value, readings[0].value2) == (132, 84)
    assert readings[1].unit == "lb"
    assert readings[0].taken_at.isoformat() == "2026-11-20T13:00:00+00:00"
    assert refusals["entry 5"].startswith("Not valid FHIR R4")
    assert refusals["entry 6"] == "The observation's status is 'entered-in-error'."
    assert refusals["entry 7"] == "The portal does not track this kind of measurement."
    assert refusals["entry 8"] == "A Patient is not a measurement."
    assert refusals["entry 9"] == "A blood pressure needs both numbers in one observation."


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"not json", "the file is not JSON."),
        (b"[1, 2]", "the file is not a FHIR resource."),
        (b'{"resourceType": "Patient"}', "the file is neither a FHIR Bundle nor an Observation."),
    ],
)
def test_files_that_are_not_bundles_are_refused_whole(data, reason):
    with pytest.raises(ImportRefused) as refused:
        list(parse_fhir(data))
    assert refused.value.reason == reason
    assert refused.value.user_message == f"Nothing was imported: {reason}"


def test_single_observation_without_id_is_read():
    resource = _obs("59408-5", {"value": 96, "unit": "%"})["resource"]
    del resource["id"]
    [reading] = list(parse_fhir(json.dumps(resource).encode()))
    assert (reading.measure, reading.value) == (units.SPO2, 96)


def test_importing_the_same_bundle_twice_adds_nothing(session, now):
    people = make_people(session)

    def run():
        return entry.import_readings(
            people.alice_user,
            people.alice.id,
            parse_fhir(json.dumps(BUNDLE).encode()),
            session=session,
            now=now,
            source="fhir",
            label="bundle.json",
        )

    first, second = run(), run()
    assert (first.added, first.refused) == (4, 5)
    assert (second.added, second.duplicates) == (0, 4)
    stored = session.exec(select(PatientReading).order_by(PatientReading.taken_at)).all()
    assert len(stored) == 4
    glucose = next(r for r in stored if r.measure == units.GLUCOSE)
    assert glucose.value == pytest.approx(109.9, abs=0.1)
