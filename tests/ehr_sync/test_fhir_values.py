"""codeable_concept: the one CodeableConcept builder the record export and the write-back share,
the inverse of the reader (concept_columns) the EHR sync stores codes with."""

import pytest
from pydantic import ValidationError

from ehr_sync.fhir_values import RXNORM, SNOMED, codeable_concept, concept_columns


@pytest.mark.parametrize(
    "columns",
    [
        (SNOMED, "44054006", "Type 2 diabetes mellitus"),
        (RXNORM, "860975", "Metformin 500 mg tablet"),
        (None, "AMB", "Ambulatory"),  # a code without a system keeps no system
        (None, None, "Penicillin (as the patient said)"),  # words only
    ],
)
def test_columns_read_back_unchanged(columns):
    assert concept_columns(codeable_concept(*columns)) == columns


def test_display_is_also_the_text_and_absent_parts_stay_absent():
    concept = codeable_concept(SNOMED, "44054006", "Diabetes")
    assert concept.model_dump(mode="json") == {
        "coding": [{"system": SNOMED, "code": "44054006", "display": "Diabetes"}],
        "text": "Diabetes",
    }
    assert codeable_concept(None, "active", None).model_dump(mode="json") == {
        "coding": [{"code": "active"}]
    }


def test_nothing_to_say_is_no_concept():
    assert codeable_concept(None, None, None) is None
    assert codeable_concept("", "", "") is None  # empty columns are absent, not empty strings


def test_a_code_fhir_refuses_fails_where_it_is_built():
    with pytest.raises(ValidationError):
        codeable_concept(SNOMED, "44054006 ", "Diabetes")
