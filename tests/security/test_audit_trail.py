"""The audit trail is hash-chained, verifiable, searchable by admins only, and shown to patients."""

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select
from streamlit.testing.v1 import AppTest

from db import audit_guard
from db.models import AuditEvent, Role
from portal import audit_verify
from portal.errors import NotAllowed, NotYourRecord
from portal.services import audit, audit_chain, audit_log
from portal.timefmt import format_day
from tests.factories import create_patient, create_user
from tests.harness import force_page

PAGES = Path(__file__).resolve().parents[2] / "pages"


def _write(session, user, n, now, patient_id=None):
    for i in range(n):
        audit.record(
            session=session,
            actor=user,
            category="viewed test results",
            action="read",
            patient_id=patient_id,
            now=now + timedelta(seconds=i),
        )
    session.commit()


def test_chain_verifies_and_cli_says_intact(session, now, capsys):
    user = create_user(session, Role.NURSE)
    _write(session, user, 5, now)
    result = audit_chain.verify(session)
    assert result.ok and result.checked == 5
    assert audit_verify.main() == 0
    assert "5 entries verified" in capsys.readouterr().out


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE auditevent SET detail = 'edited' WHERE id = (SELECT MIN(id) + 1 FROM auditevent)",
        "DELETE FROM auditevent WHERE id = (SELECT MIN(id) + 2 FROM auditevent)",
        "DELETE FROM auditevent WHERE id = (SELECT MAX(id) FROM auditevent)",
    ],
    ids=["edited", "removed-inside", "removed-newest"],
)
def test_tampering_is_detected(session, now, tamper):
    _write(session, create_user(session, Role.NURSE), 5, now)
    # An attacker with the database owner's rights can drop the append-only guard first.
    audit_guard.remove(session.connection())
    session.execute(text(tamper))
    session.commit()
    result = audit_chain.verify(session)
    assert not result.ok and result.first_bad_id is not None
    assert audit_verify.main() == 1


@pytest.mark.parametrize(
    "change",
    [
        "UPDATE auditevent SET detail = 'edited'",
        "DELETE FROM auditevent",
    ],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_remove_audit_entries(session, now, change):
    _write(session, create_user(session, Role.NURSE), 3, now)
    with pytest.raises(DBAPIError, match=audit_guard.MESSAGE):
        session.execute(text(change))
    session.rollback()
    assert len(session.exec(select(AuditEvent)).all()) == 3
    assert audit_chain.verify(session).ok


def test_concurrent_writers_keep_one_chain(engine, now):
    with Session(engine) as session:
        user = create_user(session, Role.NURSE)
    errors = []

    def writer():
        try:
            with Session(engine, expire_on_commit=False) as own:
                for i in range(10):
                    audit.record(
                        session=own, actor=user, category="c", action="read", now=now, detail=str(i)
                    )
                    own.commit()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with Session(engine) as session:
        result = audit_chain.verify(session)
    assert result.ok and result.checked == 60


def test_only_admins_search_and_export_and_both_are_audited(session, now):
    nurse = create_user(session, Role.NURSE)
    admin = create_user(session, Role.ADMIN)
    patient = create_patient(session)
    audit.record(
        session=session, actor=nurse, category="x", action="read", detail="=HYPERLINK(1)", now=now
    )
    session.commit()
    with pytest.raises(NotAllowed):
        audit_log.search(nurse, audit_log.AuditFilter(), session=session, now=now)
    rows = audit_log.search(
        admin, audit_log.AuditFilter(username=nurse.username), session=session, now=now
    )
    # Newest first: the nurse's refused search is on record too.
    assert [(r.outcome, r.detail) for r in rows] == [
        ("denied", "role nurse does not hold 'view audit log'"),
        ("success", "=HYPERLINK(1)"),
    ]
    csv_text = audit_log.export_csv(admin, audit_log.AuditFilter(), session=session, now=now)
    assert "'=HYPERLINK(1)" in csv_text  # a spreadsheet shows it as text, never runs it
    actions = session.exec(select(AuditEvent.action).where(AuditEvent.user_id == admin.id)).all()
    assert actions == ["search", "export audit log"]
    assert patient.id  # keeps the patient row referenced


def test_patient_sees_staff_who_viewed_and_nobody_else_can_read_it(session, now):
    patient = create_patient(session)
    other = create_patient(session)
    me = create_user(session, Role.PATIENT, patient)
    stranger = create_user(session, Role.PATIENT, other)
    nurse = create_user(session, Role.NURSE, display_name="Nurse <b>Joy</b>")
    audit.record(
        session=session, actor=nurse, category="opened chart", action="read",
        patient_id=patient.id, now=now,
    )  # fmt: skip
    session.commit()
    views = audit_log.who_viewed(me, patient.id, session=session, now=now)
    assert [(v.staff_name, v.what) for v in views] == [("Nurse <b>Joy</b>", "opened chart")]
    with pytest.raises(NotYourRecord):
        audit_log.who_viewed(stranger, patient.id, session=session, now=now)
    denied = session.exec(
        select(AuditEvent).where(AuditEvent.user_id == stranger.id, AuditEvent.outcome == "denied")
    ).all()
    assert len(denied) == 1


def _page(name: str, username: str) -> AppTest:
    return force_page(username, name)


def test_audit_page_for_admin_and_refused_for_staff(app_settings, session, now):
    admin = create_user(session, Role.ADMIN, username="admin1")
    create_user(session, Role.CLINICIAN, username="doc1")
    at = _page("audit_log.py", admin.username)
    assert not at.exception
    assert at.title[0].value == "Audit log"
    assert len(at.dataframe) == 1
    refused = _page("audit_log.py", "doc1")
    assert "Only administrators" in refused.error[0].value
    assert len(refused.dataframe) == 0


def test_who_viewed_page_renders_names_inert(app_settings, session, now):
    patient = create_patient(session)
    create_user(session, Role.PATIENT, patient, username="pat")
    nurse = create_user(session, Role.NURSE, display_name="<script>alert(1)</script>")
    audit.record(
        session=session, actor=nurse, category="opened chart", action="read",
        patient_id=patient.id, now=now,
    )  # fmt: skip
    session.commit()
    at = _page("who_viewed.py", "pat")
    assert not at.exception
    assert [t.value for t in at.text] == [
        f"<script>alert(1)</script> (nurse) looked at your chart on {format_day(now)}."
    ]
    assert all("<script>" not in m.value for m in at.markdown)
