"""portal.services.rows: a row that must exist or a plain NotFound; rows an UPDATE changed."""

import pytest
from sqlmodel import col, update

from db.models import Patient
from portal.errors import NotFound
from portal.services.rows import get_or_not_found, rows_changed
from tests.factories import create_patient


def test_an_existing_row_is_returned(session):
    patient = create_patient(session)
    assert get_or_not_found(session, Patient, patient.id) is patient


def test_a_missing_row_is_a_not_found_with_the_callers_words(session):
    with pytest.raises(NotFound, match="That patient is gone."):
        get_or_not_found(session, Patient, 999_999, "That patient is gone.")


def test_without_words_the_default_not_found_message_is_used(session):
    with pytest.raises(NotFound) as refused:
        get_or_not_found(session, Patient, 999_999)
    assert refused.value.user_message == NotFound.user_message


def test_rows_changed_counts_what_an_update_changed(session):
    patients = [create_patient(session, given_name="Ann") for _ in range(2)]
    result = session.execute(
        update(Patient).where(col(Patient.id) == patients[0].id).values(given_name="Anne")
    )
    assert rows_changed(result) == 1
    result = session.execute(update(Patient).where(col(Patient.id) == -1).values(given_name="X"))
    assert rows_changed(result) == 0
