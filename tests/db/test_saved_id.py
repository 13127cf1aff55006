"""db.models.saved_id: the id of a persisted row as an int, and a loud error for an unsaved one."""

import pytest

from db.models import Patient, RowNotSaved, saved_id
from tests.factories import create_patient


def test_a_saved_row_gives_its_id(session):
    patient = create_patient(session)
    assert saved_id(patient) == patient.id


def test_a_row_never_flushed_has_no_id_to_give():
    with pytest.raises(RowNotSaved, match="Patient has no id"):
        saved_id(Patient(fhir_id="p-new", family_name="New", given_name="Row"))
