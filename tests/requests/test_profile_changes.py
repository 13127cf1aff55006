import pytest
from sqlmodel import select

from db.models import Patient, PatientPreferences, TriageItem
from portal.errors import InvalidInput, NotYourRecord
from portal.services import profile_changes
from portal.services.profile_changes import PendingChangeExists
from tests.factories import TEST_PASSWORD as PW
from tests.requests.helpers import make_clinic


def test_phone_change_is_pending_until_accepted(session, now):
    clinic = make_clinic(session)
    [change] = profile_changes.request_changes(
        clinic.alice_user,
        clinic.alice.id,
        {"phone": "555-0199"},
        proof=PW,
        session=session,
        now=now,
    )
    view = profile_changes.profile(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert view.values["phone"] == "555-0100"
    assert view.pending["phone"].new_value == "555-0199"
    item = session.exec(select(TriageItem)).one()
    profile_changes.decide_change(
        clinic.nurse, item.id, item.version, accept=True, session=session, now=now
    )
    assert session.get(Patient, clinic.alice.id).phone == "555-0199"
    view = profile_changes.profile(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert view.pending == {} and view.recent[0].status == "accepted"


def test_preferences_are_written_to_the_preferences_table(session, now):
    clinic = make_clinic(session)
    profile_changes.request_changes(
        clinic.alice_user,
        clinic.alice.id,
        {"preferred_pharmacy": "Elm Pharmacy", "communication_preference": "Email"},
        session=session,
        now=now,
    )
    for item in session.exec(select(TriageItem)).all():
        profile_changes.decide_change(
            clinic.nurse, item.id, item.version, accept=True, session=session, now=now
        )
    prefs = session.get(PatientPreferences, clinic.alice.id)
    assert (prefs.preferred_pharmacy, prefs.communication_preference) == ("Elm Pharmacy", "Email")


def test_rejection_needs_a_reason_and_leaves_the_record_alone(session, now):
    clinic = make_clinic(session)
    profile_changes.request_changes(
        clinic.alice_user,
        clinic.alice.id,
        {"email": "new@example.com"},
        proof=PW,
        session=session,
        now=now,
    )
    item = session.exec(select(TriageItem)).one()
    with pytest.raises(InvalidInput, match="reason"):
        profile_changes.decide_change(
            clinic.nurse, item.id, item.version, accept=False, session=session, now=now
        )
    profile_changes.decide_change(
        clinic.nurse,
        item.id,
        item.version,
        accept=False,
        reason="Please call to verify",
        session=session,
        now=now,
    )
    assert session.get(Patient, clinic.alice.id).email is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"phone": "<script>alert(1)</script>"}, "phone number"),
        ({"email": "not-an-email"}, "email address"),
        ({"communication_preference": "Carrier pigeon"}, "from the list"),
        ({"address": "x" * 501}, "at most 500"),
        ({"phone": "555-0100"}, "Nothing has changed"),
        ({"mrn": "123"}, "cannot be changed"),
    ],
)
def test_bad_profile_input_is_refused_plainly(session, now, changes, message):
    clinic = make_clinic(session)
    with pytest.raises(InvalidInput, match=message):
        profile_changes.request_changes(
            clinic.alice_user, clinic.alice.id, changes, session=session, now=now
        )


def test_second_pending_change_to_same_field_is_refused(session, now):
    clinic = make_clinic(session)
    profile_changes.request_changes(
        clinic.alice_user,
        clinic.alice.id,
        {"phone": "555-0199"},
        proof=PW,
        session=session,
        now=now,
    )
    with pytest.raises(PendingChangeExists, match="phone is already waiting"):
        profile_changes.request_changes(
            clinic.alice_user,
            clinic.alice.id,
            {"phone": "555-0111"},
            proof=PW,
            session=session,
            now=now,
        )


def test_patient_cannot_change_another_patients_profile(session, now):
    clinic = make_clinic(session)
    with pytest.raises(NotYourRecord):
        profile_changes.request_changes(
            clinic.alice_user,
            clinic.bob.id,
            {"phone": "555-0199"},
            proof=PW,
            session=session,
            now=now,
        )
    with pytest.raises(NotYourRecord):
        profile_changes.profile(clinic.alice_user, clinic.bob.id, session=session, now=now)
