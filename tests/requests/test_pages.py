"""Both sides of the request flow driven through the real app with AppTest."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.models import Message, MessageThread, Patient, TriageItem
from portal.services import triage
from tests.factories import TEST_PASSWORD
from tests.harness import click, force_page, goto, open_app
from tests.requests.helpers import EXE, PDF, create_medication, make_clinic


def _open(username: str, page: str) -> AppTest:
    return open_app(username, page, timeout=30)


def _texts(at: AppTest) -> str:
    return "\n".join(t.value for t in at.text) + "\n".join(m.value for m in at.markdown)


def test_patient_requests_and_staff_answers_them_end_to_end(app_env, session):
    clinic = make_clinic(session)
    med = create_medication(session, clinic.alice, display="Metformin 500 mg tablet")

    # --- patient: message with attachment, refill, phone change ---------------------------
    at = _open(clinic.alice_user.username, "pages/messages.py")
    at.selectbox(key="new_message_to").set_value("care_team")
    at.text_input(key="new_message_subject").set_value("Knee pain")
    at.text_area(key="new_message_body").set_value("<b>My knee</b> hurts since Monday")
    at.file_uploader(key="new_message_files_0").set_value(("scan.pdf", PDF, "application/pdf"))
    click(at, "Send message")
    assert [s.value for s in at.success] == [
        "Sent. The clinic will reply here; we will notify you."
    ]
    # The HTML is shown literally as text.
    assert "<b>My knee</b> hurts since Monday" in [t.value for t in at.text]

    goto(at, "pages/medications.py")
    at.text_input(key=f"pharmacy_{med.id}").set_value("Elm Street Pharmacy")
    click(at, "Request refill")
    assert "Refill requested for Metformin 500 mg tablet." in [s.value for s in at.success]

    goto(at, "pages/profile.py")
    at.text_input(key="profile_phone").set_value("555-0199")
    at.text_input(key="profile_proof").set_value(TEST_PASSWORD)
    click(at, "Send changes for review")
    assert [s.value for s in at.success] == ["Sent for review: phone."]
    assert any("pending review" in t.value for t in at.text)

    # --- staff: all three in the inbox; claim, reply, approve, accept -----------------------
    staff = _open(clinic.doctor.username, "pages/triage_inbox.py")
    counts = {m.label: m.value for m in staff.metric}
    assert {k: counts[k] for k in ("Message", "Refill", "Profile change")} == {
        "Message": "1",
        "Refill": "1",
        "Profile change": "1",
    }
    items = {i.kind: i for i in session.exec(select(TriageItem)).all()}

    staff.selectbox(key="triage_open_item").set_value(items["message"].id).run()
    # The attachment reaches staff with the message, as a download of the stored bytes.
    [attachment] = [d for d in staff.get("download_button") if "scan.pdf" in d.proto.label]
    assert attachment.proto.label == "Download scan.pdf (1 KB)"
    click(staff, "Claim")
    assert "You claimed this item." in [s.value for s in staff.success]
    staff.selectbox(key=f"template_{items['message'].id}").set_value("Please book a visit").run()
    assert staff.text_area(key=f"reply_body_{items['message'].id}").value.startswith("Thank you")
    staff.text_area(key=f"reply_body_{items['message'].id}").set_value("Please rest and ice it.")
    click(staff, "Send reply")
    assert "Reply sent." in [s.value for s in staff.success]

    staff.selectbox(key="triage_open_item").set_value(items["refill"].id).run()
    assert any("Elm Street Pharmacy" in t.value for t in staff.text)
    click(staff, "Claim")
    click(staff, "Approve")
    assert "Refill approved; the patient has been notified." in [s.value for s in staff.success]

    staff.selectbox(key="triage_open_item").set_value(items["profile_change"].id).run()
    click(staff, "Accept")
    assert "Phone updated; the patient has been notified." in [s.value for s in staff.success]
    session.expire_all()
    assert [i.status for i in session.exec(select(TriageItem))] == ["closed"] * 3

    # --- patient: sees the reply, the decision, the new phone and the notifications ---------
    goto(at, "pages/home.py")
    assert not at.exception, at.exception
    assert {m.label: m.value for m in at.metric} == {
        "Unread updates": "3",
        "Unread messages": "1",
    }
    goto(at, "pages/messages.py")
    assert "Please rest and ice it." in [t.value for t in at.text]
    goto(at, "pages/medications.py")
    assert any("Approved" in m.value for m in at.markdown)
    goto(at, "pages/profile.py")
    assert "Phone: 555-0199" in [t.value for t in at.text]
    goto(at, "pages/notifications.py")
    texts = [t.value for t in at.text]
    assert any("New reply" in t for t in texts)
    assert any("refill request for Metformin 500 mg tablet was approved" in t for t in texts)
    assert any("phone was accepted" in t for t in texts)
    session.expire_all()
    assert session.get(Patient, clinic.alice.id).phone == "555-0199"


def test_second_staff_member_is_told_and_sees_the_current_state(app_env, session, now):
    clinic = make_clinic(session)
    staff = _prepare_message(clinic, session, now)
    item = session.exec(select(TriageItem)).one()
    # A colleague claims the item after the page was drawn.
    triage.claim(clinic.nurse, item.id, item.version, session=session, now=now)
    click(staff, "Claim")
    assert [w.value for w in staff.warning][0].startswith(
        "Someone else updated this item while you were looking at it"
    )
    assert any("Assignee: Nora Nurse" in c.value for c in staff.caption)
    session.expire_all()
    assert session.get(TriageItem, item.id).assignee_user_id == clinic.nurse.id


def test_a_reply_kept_open_empties_the_reply_box_so_it_is_not_sent_twice(app_env, session, now):
    clinic = make_clinic(session)
    staff = _prepare_message(clinic, session, now)
    item = session.exec(select(TriageItem)).one()
    staff.selectbox(key="triage_open_item").set_value(item.id).run()
    click(staff, "Claim")
    staff.text_area(key=f"reply_body_{item.id}").set_value("Use the lot behind the clinic.")
    staff.checkbox(key=f"keep_open_{item.id}").check()
    click(staff, "Send reply")
    assert "Reply sent." in [s.value for s in staff.success]
    assert staff.text_area(key=f"reply_body_{item.id}").value == ""
    session.expire_all()
    replies = session.exec(select(Message).where(Message.body == "Use the lot behind the clinic."))
    assert len(replies.all()) == 1
    assert session.get(TriageItem, item.id).status != "closed"


def _prepare_message(clinic, session, now):
    from portal.services import messages

    messages.start_thread(
        clinic.alice_user,
        clinic.alice.id,
        recipient="front_desk",
        subject="Parking",
        body="Where do I park?",
        session=session,
        now=now,
    )
    return _open(clinic.doctor.username, "pages/triage_inbox.py")


@pytest.mark.parametrize(
    ("body", "upload", "error"),
    [
        ("", None, "Please write a message before sending."),
        ("x" * 100_000, None, "Your message is 100,000 characters long; the limit is 10,000."),
    ],
)
def test_bad_messages_get_a_clear_message_and_store_nothing(app_env, session, body, upload, error):
    clinic = make_clinic(session)
    at = _open(clinic.alice_user.username, "pages/messages.py")
    at.text_area(key="new_message_body").set_value(body)
    if upload:
        at.file_uploader(key="new_message_files_0").set_value(upload)
    click(at, "Send message")
    assert at.error and at.error[0].value.startswith(error)
    assert not at.success
    # What the patient typed is still in the box, so nothing is lost.
    assert at.text_area(key="new_message_body").value == body
    assert session.exec(select(MessageThread)).all() == []
    assert session.exec(select(Message)).all() == []


@pytest.mark.parametrize(
    ("upload", "named"),
    [
        (("x.bat", b"@echo off", "application/octet-stream"), "x.bat was not attached: that file "
         "type is not accepted"),
        (("../../etc/passwd", b"root:x:0:0", "text/plain"), "../../etc/passwd was not attached"),
        (("invoice.pdf", EXE, "application/pdf"), "invoice.pdf was not attached: it is a program"),
    ],
)  # fmt: skip
def test_a_file_the_portal_does_not_take_is_named_with_the_confirmation(
    app_env, session, upload, named
):
    """Finding 5: the message goes, with the good files; a dropped one is never silent."""
    clinic = make_clinic(session)
    at = _open(clinic.alice_user.username, "pages/messages.py")
    at.text_area(key="new_message_body").set_value("See files")
    at.file_uploader(key="new_message_files_0").set_value(
        [upload, ("scan.pdf", PDF, "application/pdf")]
    )
    click(at, "Send message")
    assert not at.error and not at.success
    shown = at.warning[0].value.replace("\\", "")  # markdown-escaped: shown literally
    assert shown.startswith("Sent.")
    assert named in shown
    [message] = session.exec(select(Message)).all()
    assert message.body == "See files"
    from db.models import Attachment

    assert [a.filename for a in session.exec(select(Attachment)).all()] == ["scan.pdf"]


def test_patient_forcing_the_staff_page_sees_nothing(app_env, session, now):
    """Even when a patient reaches the inbox script directly, the services refuse."""
    clinic = make_clinic(session)
    _prepare_message(clinic, session, now)
    for page in ("pages/triage_inbox.py", "pages/refill_queue.py"):
        at = force_page(clinic.bob_user.username, page)
        assert [e.value for e in at.error] == ["This page is for clinic staff."]
        assert not at.dataframe and not at.text
