"""Control characters at the boundary (issue 15, finding 4): NUL and friends never reach the
database, on SQLite (which would keep them) and PostgreSQL (which refused the write, uncaught)."""

import io

import pytest
from sqlmodel import select

from db.models import (
    AuditEvent,
    Message,
    MessageThread,
    Patient,
    PatientReading,
    ProfileChangeRequest,
    Role,
)
from portal.services import audit, audit_chain, messages, profile_changes
from portal.services.attachments import Upload, sort_uploads
from portal.services.readings import file_import
from portal.services.readings.csv_import import ColumnMapping
from portal.text_hygiene import clean_line, clean_text
from tests.factories import create_patient, create_user
from tests.requests.helpers import PDF

HOSTILE = "Hel\x00lo\x07 wor\x1bld\x7f\x9b!"


def test_clean_text_keeps_lines_and_tabs_and_drops_the_rest():
    assert clean_text("a\r\nb\rc\td\x00e\x1f\x9f\ud800") == "a\nb\nc\tde"
    assert clean_line("a\nb\tc\x00") == "a b c"


def test_a_message_with_nul_and_controls_is_stored_clean(session, now):
    patient = create_patient(session)
    user = create_user(session, Role.PATIENT, patient)
    thread = messages.start_thread(
        user, patient.id, recipient="care_team", subject=f"Sub\x00ject{HOSTILE}",
        body=f"Line one\r\n{HOSTILE}\nLine\tthree", session=session, now=now,
    )  # fmt: skip
    session.expire_all()
    stored = session.exec(select(Message)).one()
    assert stored.body == "Line one\nHello world!\nLine\tthree"
    assert session.get(MessageThread, thread.id).subject == "SubjectHello world!"


def test_a_message_of_nothing_but_control_characters_is_refused(session, now):
    patient = create_patient(session)
    user = create_user(session, Role.PATIENT, patient)
    with pytest.raises(messages.InvalidInput, match="Please write a message"):
        messages.start_thread(
            user, patient.id, recipient="care_team", subject="x", body="\x00\x00\x1b",
            session=session, now=now,
        )  # fmt: skip


def test_profile_fields_with_nul_are_stored_clean(session, now):
    patient = create_patient(session)
    user = create_user(session, Role.PATIENT, patient)
    profile_changes.request_changes(
        user, patient.id, {"address": "1 Main\x00 St\x1b"}, session=session, now=now
    )
    session.expire_all()
    change = session.exec(select(ProfileChangeRequest)).one()
    assert change.new_value == "1 Main St"


def test_any_text_column_written_by_any_path_is_stripped(session):
    """The net under every session: even a path that forgot to clean stores no NUL."""
    patient = create_patient(session)
    patient.address = "12\x00 Elm\x07 Road\nFlat 2"
    session.add(patient)
    session.commit()
    session.expire_all()
    assert session.get(Patient, patient.id).address == "12 Elm Road\nFlat 2"


def test_audit_details_with_nul_are_stored_clean_and_still_verify(session, now):
    nurse = create_user(session, Role.NURSE)
    audit.record(
        session=session, actor=nurse, category="searched\x00 patients", action="read",
        detail="name: Ro\x00bert\x1b", now=now,
    )  # fmt: skip
    session.commit()
    session.expire_all()
    event = session.exec(select(AuditEvent)).one()
    assert (event.category, event.detail) == ("searched patients", "name: Robert")
    assert audit_chain.verify(session).ok


def test_an_imported_unit_with_nul_is_stored_clean(session, now):
    patient = create_patient(session)
    user = create_user(session, Role.PATIENT, patient)
    data = b"date,value,unit\n2026-11-20T08:00:00Z,150,lb\x00\n"
    file_import.import_file(
        user, patient.id, kind=file_import.CSV, upload=io.BytesIO(data), filename="w\x00.csv",
        mapping=ColumnMapping(date="date", value="value", measure="weight", unit_column="unit"),
        session=session, now=now,
    )  # fmt: skip
    reading = session.exec(select(PatientReading)).one()
    assert reading.entered_unit == "lb"
    details = session.exec(select(AuditEvent.detail).where(AuditEvent.action == "import")).all()
    assert details == ["w.csv: 1 added, 0 already there, 0 refused"]


def test_blocked_attachments_are_named_and_the_rest_kept():
    from portal.config import Settings

    kept, named = sort_uploads(
        [
            Upload("x.bat", b"@echo off"),
            Upload("../../etc/passwd", b"root:x:0:0"),
            Upload("scan.pdf", PDF),
            Upload("empty.png", b""),
        ],
        Settings(),
    )
    assert [u.filename for u in kept] == ["scan.pdf"]
    assert named == [
        "x.bat was not attached: that file type is not accepted (PDF, JPEG or PNG only).",
        "../../etc/passwd was not attached: that file type is not accepted (PDF, JPEG or PNG "
        "only).",
        "empty.png was not attached: the file is empty.",
    ]
