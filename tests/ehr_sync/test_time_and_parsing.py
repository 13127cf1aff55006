"""Validation with the R4B models and the UTC rules for FHIR dates and times."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from ehr_sync.fhir_values import as_date, as_utc
from ehr_sync.mappers import map_resource
from ehr_sync.parsing import InvalidResource, parse_resource
from tests.ehr_sync.fhir_json import glucose, load, without


def test_r4_only_elements_validate():
    # Top-level fhir.resources is R5, which rejects both of these R4 shapes.
    assert parse_resource(load("encounter")).class_fhir.code == "AMB"
    assert parse_resource(load("medication_request")).medicationCodeableConcept is not None


def test_offset_datetime_is_converted_to_utc():
    eastern = timezone(timedelta(hours=-5))
    assert as_utc(datetime(2026, 3, 1, 9, 0, tzinfo=eastern)) == datetime(
        2026, 3, 1, 14, tzinfo=UTC
    )


def test_date_only_and_partial_dates_become_midnight_utc_of_their_first_day():
    assert as_utc(date(2026, 2, 10)) == datetime(2026, 2, 10, tzinfo=UTC)
    assert as_utc("2026-02") == datetime(2026, 2, 1, tzinfo=UTC)
    assert as_utc("2026") == datetime(2026, 1, 1, tzinfo=UTC)
    assert as_date("1974-12") == date(1974, 12, 1)


def test_datetime_without_offset_is_taken_as_utc():
    # FHIR requires the offset, but EHRs do send these; the importer reads them as UTC.
    [row] = map_resource(
        parse_resource(glucose("o-naive", effectiveDateTime="2026-03-01T09:15:00"))
    )
    assert row["effective_at"] == datetime(2026, 3, 1, 9, 15, tzinfo=UTC)
    assert row["effective_at"].utcoffset() == timedelta(0)


def test_free_text_that_looks_like_a_time_is_left_alone():
    resource = glucose(
        "o-text",
        effectiveDateTime="2026-03-01T09:15:00",
        valueQuantity=None,
        valueString="2026-03-01T09:15:00",
    )
    [row] = map_resource(parse_resource(resource))
    assert row["value_string"] == "2026-03-01T09:15:00"


@pytest.mark.parametrize(
    ("resource", "reason"),
    [
        (None, "Empty"),
        ([], "Not a JSON object"),
        ({"id": "x"}, "No resourceType"),
        ({"resourceType": "Observation"}, "No id"),
        ({"resourceType": "Florp", "id": "x"}, "Unknown resourceType"),
        (without(glucose("o-bad"), "code"), "Not valid FHIR R4"),
        (glucose("o-bad", valueQuantity={"value": "lots"}), "Not valid FHIR R4"),
        (glucose("o-bad", effectiveDateTime="yesterday"), "Not valid FHIR R4"),
    ],
)
def test_invalid_resources_are_refused_with_a_reason(resource, reason):
    with pytest.raises(InvalidResource, match=reason):
        parse_resource(resource)
