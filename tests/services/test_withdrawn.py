"""withdrawn.not_withdrawn: the one SQL filter for entries the EHR took back."""

from sqlmodel import col, select

from db.models import Condition
from portal.services.withdrawn import WITHDRAWN, not_withdrawn
from tests.factories import create_patient
from tests.factories_records import create_condition


def test_withdrawn_entries_are_left_out_and_those_without_a_status_kept(session):
    patient = create_patient(session)
    for status in ("active", None, WITHDRAWN, "resolved"):
        create_condition(session, patient, clinical_status=status, display=f"{status}")
    shown = session.exec(
        select(Condition.display)
        .where(not_withdrawn(Condition.clinical_status))
        .order_by(col(Condition.id))
    ).all()
    assert shown == ["active", "None", "resolved"]
