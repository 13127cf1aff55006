"""No health data in application logs: a failing background job logs what failed, never the
names or values that were in the failing statement."""

import logging

from sqlmodel import Session

from db.models import Patient
from ehr_sync import jobs
from portal.services.scheduling import waitlist
from tests.factories import create_patient

SECRET_NAME = "Zenobia-Quillfeather"


def test_a_failing_job_logs_no_patient_data(engine, session, monkeypatch, caplog):
    existing = create_patient(session)

    def clash(*, session: Session, now):
        # The same (source, FHIR id) again: the database refuses it, quoting the statement.
        session.add(
            Patient(source=existing.source, fhir_id=existing.fhir_id, family_name=SECRET_NAME)
        )
        session.flush()

    monkeypatch.setattr(waitlist, "expire_offers", clash)
    with caplog.at_level(logging.DEBUG):
        report = jobs.run_tick()

    assert any("IntegrityError" in error for error in report.errors)  # the failure is reported
    assert "expiring waitlist offers failed" in caplog.text
    assert SECRET_NAME not in caplog.text
    assert all(SECRET_NAME not in error for error in report.errors)
