"""db.models.saved_id: the id of a persisted row as an int, and a loud error for an unsaved one.
saved_ids: the same for ids selected from an id column."""

import pytest
from sqlmodel import select

from db.models import Patient, RowNotSaved, saved_id, saved_ids
from tests.factories import create_patient


def test_a_saved_row_gives_its_id(session):
    patient = create_patient(session)
    assert saved_id(patient) == patient.id


def test_a_row_never_flushed_has_no_id_to_give():
    with pytest.raises(RowNotSaved, match="Patient has no id"):
        saved_id(Patient(fhir_id="p-new", family_name="New", given_name="Row"))


def test_ids_selected_from_a_table_come_back_as_ints_in_order(session):
    patient = create_patient(session)
    assert saved_ids(session.exec(select(Patient.id)).all()) == [patient.id]
    assert saved_ids([3, 1, 2]) == [3, 1, 2]


def test_a_none_among_selected_ids_is_a_bug_said_loudly():
    with pytest.raises(RowNotSaved, match="is None"):
        saved_ids([1, None])
