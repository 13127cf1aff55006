"""The one record switcher (components/patient_context.py) on every patient page: a caregiver
with two people sees whose record it is at the top of each page, switching changes the data, and
every button that acts names the person it acts for."""

from dataclasses import dataclass

import pytest
from sqlmodel import select

from components import session_keys as keys
from components.navigation import menu_for
from db.models import MessageThread, Patient, RefillRequest, Role, User
from tests.factories import create_patient, create_user, grant_proxy
from tests.factories_records import create_medication
from tests.harness import click, goto, open_app, run_ok

# Every page a caregiver's menu offers shows or acts on one person's record, except these.
NOT_ONE_RECORD = {"account_security"}


@dataclass
class Family:
    frank: Patient
    gina: Patient
    caregiver: User
    patient: User  # a patient with no grants: their own record, no switcher


@pytest.fixture
def family(session) -> Family:
    frank = create_patient(session, given_name="Frank", family_name="Fisher")
    gina = create_patient(session, given_name="Gina", family_name="Fisher")
    create_medication(session, frank, display="Amoxicillin 250 mg", status="active")
    create_medication(session, gina, display="Cetirizine 5 mg", status="active")
    caregiver = create_user(session, Role.PROXY, username="mum", display_name="Maria Fisher")
    grant_proxy(session, caregiver, frank)
    grant_proxy(session, caregiver, gina)
    own = create_patient(session, given_name="Olga", family_name="Owens")
    patient = create_user(session, Role.PATIENT, own, username="olga")
    return Family(frank, gina, caregiver, patient)


def _heading(at) -> list[str]:
    return [s.value for s in at.subheader if s.value.startswith(":material/person:")]


def _labels(at) -> list[str]:
    return [b.label for b in at.button]


def _patient_pages() -> list[str]:
    return [
        name
        for names in menu_for(Role.PROXY).values()
        for name in names
        if name not in NOT_ONE_RECORD
    ]


def test_every_patient_page_is_covered():
    # A new patient page must either show the switcher (and join this list) or say why not.
    assert set(_patient_pages()) >= {
        "home",
        "health_summary",
        "results",
        "messages",
        "medications",
        "referrals",
        "profile",
        "notifications",
        "appointments",
        "readings",
        "prevention",
        "my_data",
        "who_viewed",
    }


@pytest.mark.parametrize("page", _patient_pages())
def test_caregiver_sees_the_one_switcher_naming_the_person_on_every_patient_page(
    app_env, family, page
):
    at = open_app("mum", page)
    assert _heading(at) == [":material/person: Record of Frank Fisher"]
    picker = at.selectbox(key=keys.VIEWING_PATIENT_ID)
    assert picker.label == "Switch to the record of"
    assert picker.options == ["Frank Fisher", "Gina Fisher"]
    picker.set_value(family.gina.id)
    run_ok(at)
    assert _heading(at) == [":material/person: Record of Gina Fisher"]
    # The switcher sits in the page, not the side bar where it was easy to miss.
    assert not at.sidebar.selectbox


def test_switching_changes_the_data_and_the_buttons_name_the_person(app_env, session, family):
    at = open_app("mum", "medications")
    assert any("Amoxicillin 250 mg" in m.value for m in at.markdown)
    assert "Request refill for Frank" in _labels(at)

    at.selectbox(key=keys.VIEWING_PATIENT_ID).set_value(family.gina.id)
    run_ok(at)
    assert any("Cetirizine 5 mg" in m.value for m in at.markdown)
    assert not any("Amoxicillin" in m.value for m in at.markdown)
    next(t for t in at.text_input if t.label == "Pharmacy").set_value("Elm Street Pharmacy")
    click(at, "Request refill for Gina")
    refill = session.exec(select(RefillRequest)).one()
    assert refill.patient_id == family.gina.id

    # The choice follows the caregiver to Messages, and the message is about Gina.
    goto(at, "messages")
    assert _heading(at) == [":material/person: Record of Gina Fisher"]
    at.text_input(key="new_message_subject").set_value("Rash")
    at.text_area(key="new_message_body").set_value("Her rash is back")
    click(at, "Send message about Gina")
    thread = session.exec(select(MessageThread)).one()
    assert thread.patient_id == family.gina.id
    assert "Send reply about Gina" in _labels(at)


@pytest.mark.parametrize(
    ("page", "label"),
    [
        ("profile", "Send changes for review for Frank"),
        ("referrals", "Send request for Frank"),
        ("appointments", "Send request for Frank"),
        ("appointments", "Join the waitlist for Frank"),
        ("readings", "Save reading for Frank"),
    ],
)
def test_forms_that_act_for_someone_name_them(app_env, family, page, label):
    assert label in _labels(open_app("mum", page))


def test_a_patient_on_their_own_record_sees_plain_buttons_and_no_switcher(app_env, family):
    at = open_app("olga", "messages")
    assert not _heading(at)
    assert "Send message" in _labels(at)
    with pytest.raises(KeyError):
        at.selectbox(key=keys.VIEWING_PATIENT_ID)


def test_a_patient_who_is_also_a_caregiver_is_told_which_record_is_their_own(
    app_env, session, family
):
    grant_proxy(session, family.patient, family.frank)
    at = open_app("olga", "medications")
    assert _heading(at) == [":material/person: Your own record"]
    assert at.selectbox(key=keys.VIEWING_PATIENT_ID).options == ["Olga Owens (you)", "Frank Fisher"]
    assert "Request refill for Frank" not in _labels(at)
