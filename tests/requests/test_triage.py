import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from db.models import TriageItem
from portal.errors import InvalidInput, NotAllowed
from portal.services import messages, profile_changes, refills, triage
from portal.services.triage import StaleItem
from tests.factories import TEST_PASSWORD
from tests.requests.helpers import alice_writes_to_the_care_team, create_medication, make_clinic


def _three_requests(clinic, session, now):
    alice_writes_to_the_care_team(clinic, session, now)
    med = create_medication(session, clinic.alice)
    refills.request_refill(
        clinic.alice_user,
        clinic.alice.id,
        med.id,
        pharmacy="Elm",
        session=session,
        now=now + timedelta(minutes=1),
    )
    profile_changes.request_changes(
        clinic.bob_user,
        clinic.bob.id,
        {"phone": "555-0123"},
        proof=TEST_PASSWORD,
        session=session,
        now=now + timedelta(minutes=2),
    )


def test_inbox_shows_every_kind_with_patient_and_counts(session, now):
    clinic = make_clinic(session)
    _three_requests(clinic, session, now)
    rows = triage.list_items(clinic.nurse, session=session, now=now)
    assert [(r.item.kind, r.patient_name) for r in rows] == [
        ("message", "Alice Archer"),
        ("refill", "Alice Archer"),
        ("profile_change", "Bob Baker"),
    ]
    counts = triage.queue_counts(clinic.nurse, session=session, now=now)
    assert counts == {k: {"open": 1, "overdue": 0} for k in ("message", "refill", "profile_change")}


def test_overdue_items_come_first_and_filter(session, now):
    clinic = make_clinic(session)
    _three_requests(clinic, session, now)
    # Two business days later only the 8-hour message and 16-hour refill are overdue.
    later = now + timedelta(days=2)
    rows = triage.list_items(clinic.nurse, session=session, now=later)
    assert [(r.item.kind, r.overdue) for r in rows] == [
        ("message", True),
        ("refill", True),
        ("profile_change", False),
    ]
    overdue = triage.list_items(clinic.nurse, session=session, now=later, overdue_only=True)
    assert len(overdue) == 2
    refill_only = triage.list_items(clinic.nurse, session=session, now=later, kind="refill")
    assert [r.item.kind for r in refill_only] == ["refill"]


def test_claim_assign_and_status_change_are_in_history(session, now):
    clinic = make_clinic(session)
    _three_requests(clinic, session, now)
    item = triage.list_items(clinic.nurse, session=session, now=now)[0].item
    item = triage.claim(clinic.nurse, item.id, item.version, session=session, now=now)
    mine = triage.list_items(clinic.nurse, session=session, now=now, assignee_id=clinic.nurse.id)
    assert [r.item.id for r in mine] == [item.id]
    item = triage.assign(
        clinic.nurse, item.id, item.version, clinic.doctor.id, session=session, now=now
    )
    with pytest.raises(InvalidInput, match="reason"):
        triage.change_status(
            clinic.doctor,
            item.id,
            item.version,
            "waiting_on_patient",
            "",
            session=session,
            now=now,
        )
    item = triage.change_status(
        clinic.doctor,
        item.id,
        item.version,
        "waiting_on_patient",
        "Asked for a photo",
        session=session,
        now=now,
    )
    history = triage.history(clinic.doctor, item.id, session=session)
    assert [(h.event.action, h.actor_name, h.event.to_status, h.event.detail) for h in history] == [
        ("created", clinic.alice_user.display_name, "new", None),
        ("claimed", "Nora Nurse", "in_progress", None),
        ("assigned", "Nora Nurse", None, "to Dr. Dana"),
        ("status_changed", "Dr. Dana", "waiting_on_patient", "Asked for a photo"),
    ]


def test_assigning_to_a_patient_is_refused(session, now):
    clinic = make_clinic(session)
    _three_requests(clinic, session, now)
    item = triage.list_items(clinic.nurse, session=session, now=now)[0].item
    with pytest.raises(InvalidInput, match="member of staff"):
        triage.assign(
            clinic.nurse, item.id, item.version, clinic.alice_user.id, session=session, now=now
        )


def test_patients_and_proxies_cannot_open_the_inbox(session, now):
    clinic = make_clinic(session)
    for user in (clinic.alice_user, clinic.proxy):
        with pytest.raises(NotAllowed):
            triage.list_items(user, session=session, now=now)


def test_second_staff_member_acting_on_a_stale_version_is_told_the_current_state(session, now):
    clinic = make_clinic(session)
    _three_requests(clinic, session, now)
    seen = triage.list_items(clinic.nurse, session=session, now=now)[0].item
    seen_version = seen.version
    triage.claim(clinic.nurse, seen.id, seen_version, session=session, now=now)
    with pytest.raises(StaleItem) as error:
        triage.claim(clinic.doctor, seen.id, seen_version, session=session, now=now)
    assert error.value.current.assignee_user_id == clinic.nurse.id
    assert "assigned to Nora Nurse" in error.value.user_message
    [reply_item] = [i for i in session.exec(select(TriageItem)) if i.kind == "message"]
    with pytest.raises(StaleItem):
        messages.staff_reply(
            clinic.doctor, reply_item.id, seen_version, body="late", session=session, now=now
        )
    actions = [h.event.action for h in triage.history(clinic.doctor, seen.id, session=session)]
    assert actions == ["created", "claimed"]


def test_two_concurrent_sessions_never_overwrite_each_other(engine, session, now):
    """Two staff in two database sessions at once: the second waits on the first's row lock,
    then finds the version moved on and is refused, on PostgreSQL and SQLite alike."""
    clinic = make_clinic(session)
    _three_requests(clinic, session, now)
    item = triage.list_items(clinic.nurse, session=session, now=now)[0].item
    seen_version = item.version
    outcome: dict[str, object] = {}

    with (
        Session(engine, expire_on_commit=False) as first,
        Session(engine, expire_on_commit=False) as second,
    ):
        # The nurse's change is made but not yet committed: her transaction holds the row.
        triage.transition(
            clinic.nurse,
            item.id,
            seen_version,
            session=first,
            now=now,
            action="claimed",
            values={"assignee_user_id": clinic.nurse.id, "status": "in_progress"},
        )

        def doctor_claims():
            try:
                triage.claim(clinic.doctor, item.id, seen_version, session=second, now=now)
                outcome["result"] = "claimed"
            except StaleItem as error:
                outcome["result"] = error

        worker = threading.Thread(target=doctor_claims)
        worker.start()
        time.sleep(0.5)
        assert worker.is_alive(), "the second update should wait for the first transaction"
        first.commit()
        worker.join(timeout=10)

    error = outcome["result"]
    assert isinstance(error, StaleItem)
    assert error.current.assignee_user_id == clinic.nurse.id
    session.expire_all()
    final = session.get(TriageItem, item.id)
    assert (final.assignee_user_id, final.version) == (clinic.nurse.id, seen_version + 1)
