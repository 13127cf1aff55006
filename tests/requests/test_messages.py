import hashlib

import pytest
from sqlmodel import select

from db.models import Attachment, AttachmentBlob, AuditEvent, Message, MessageThread, TriageItem
from portal.errors import InvalidInput, NotYourRecord
from portal.services import messages, triage
from portal.services.attachments import AttachmentRejected, Upload
from tests.requests.helpers import EXE, PDF, PNG, make_clinic


def _send(clinic, session, now, body="My knee hurts", uploads=()):
    return messages.start_thread(
        clinic.alice_user,
        clinic.alice.id,
        recipient="care_team",
        subject="Knee",
        body=body,
        uploads=list(uploads),
        session=session,
        now=now,
    )


def test_patient_message_with_attachment_is_stored_with_hash_and_enters_inbox(session, now):
    clinic = make_clinic(session)
    thread = _send(clinic, session, now, uploads=[Upload("scan.pdf", PDF)])
    attachment = session.exec(select(Attachment)).one()
    assert attachment.content_type == "application/pdf"
    assert attachment.sha256 == hashlib.sha256(PDF).hexdigest()
    assert session.get(AttachmentBlob, attachment.sha256).data == PDF
    item = session.exec(select(TriageItem)).one()
    assert (item.kind, item.ref_id, item.patient_id, item.status) == (
        "message",
        thread.id,
        clinic.alice.id,
        "new",
    )
    assert item.due_at > now


def test_same_file_twice_is_stored_once(session, now):
    clinic = make_clinic(session)
    _send(clinic, session, now, uploads=[Upload("a.png", PNG), Upload("b.png", PNG)])
    assert len(session.exec(select(Attachment)).all()) == 2
    assert len(session.exec(select(AttachmentBlob)).all()) == 1


@pytest.mark.parametrize("body", ["", "   \n\t "])
def test_empty_message_is_refused_and_nothing_stored(session, now, body):
    clinic = make_clinic(session)
    with pytest.raises(InvalidInput, match="write a message"):
        _send(clinic, session, now, body=body)
    session.rollback()
    assert session.exec(select(MessageThread)).all() == []


def test_100000_character_message_is_refused_with_the_limit(session, now):
    clinic = make_clinic(session)
    with pytest.raises(InvalidInput, match="100,000 characters long; the limit is 10,000"):
        _send(clinic, session, now, body="x" * 100_000)
    session.rollback()
    assert session.exec(select(Message)).all() == []


def test_html_and_script_are_kept_verbatim_as_text(session, now):
    clinic = make_clinic(session)
    body = '<script>alert("x")</script><img src=x onerror=alert(1)> **bold** [link](http://e.vil)'
    thread = _send(clinic, session, now, body=body)
    view = messages.read_thread(clinic.alice_user, thread.id, session=session, now=now)
    assert view.messages[0].body == body


def test_renamed_exe_is_refused_as_a_program(session, now):
    clinic = make_clinic(session)
    with pytest.raises(AttachmentRejected, match="'invoice.pdf' is a program"):
        _send(clinic, session, now, uploads=[Upload("invoice.pdf", EXE)])
    session.rollback()
    assert session.exec(select(MessageThread)).all() == []
    assert session.exec(select(AttachmentBlob)).all() == []


def test_text_file_named_png_is_refused(session, now):
    clinic = make_clinic(session)
    with pytest.raises(AttachmentRejected, match="not a PDF, JPEG or PNG"):
        _send(clinic, session, now, uploads=[Upload("photo.png", b"hello")])


def test_oversized_file_is_refused_with_sizes(session, now, monkeypatch):
    monkeypatch.setenv("ATTACHMENT_MAX_BYTES", "1024")
    from portal.config import get_settings

    get_settings.cache_clear()
    try:
        clinic = make_clinic(session)
        with pytest.raises(AttachmentRejected, match="the limit is 1 KB"):
            _send(clinic, session, now, uploads=[Upload("big.pdf", PDF + b"0" * 4096)])
    finally:
        monkeypatch.delenv("ATTACHMENT_MAX_BYTES")
        get_settings.cache_clear()


def test_one_bad_file_stores_nothing_from_the_message(session, now):
    clinic = make_clinic(session)
    with pytest.raises(AttachmentRejected):
        _send(clinic, session, now, uploads=[Upload("ok.pdf", PDF), Upload("bad.pdf", EXE)])
    session.rollback()
    assert session.exec(select(Message)).all() == []
    assert session.exec(select(AttachmentBlob)).all() == []


def test_patient_cannot_read_or_reply_to_other_patients_thread(session, now):
    clinic = make_clinic(session)
    thread = _send(clinic, session, now)
    with pytest.raises(NotYourRecord):
        messages.read_thread(clinic.bob_user, thread.id, session=session, now=now)
    with pytest.raises(NotYourRecord):
        messages.patient_reply(clinic.bob_user, thread.id, body="hi", session=session, now=now)
    with pytest.raises(NotYourRecord):
        messages.list_threads(clinic.bob_user, clinic.alice.id, session=session, now=now)
    attachment_thread = _send(clinic, session, now, uploads=[Upload("a.pdf", PDF)])
    attachment = session.exec(select(Attachment)).one()
    assert attachment_thread.id
    with pytest.raises(NotYourRecord):
        messages.get_attachment(clinic.bob_user, attachment.id, session=session, now=now)
    denied = session.exec(select(AuditEvent).where(AuditEvent.outcome == "denied")).all()
    assert len(denied) == 4


def test_patient_cannot_act_on_inbox_items(session, now):
    clinic = make_clinic(session)
    _send(clinic, session, now)
    item = session.exec(select(TriageItem)).one()
    with pytest.raises(Exception, match="for clinic staff"):
        messages.staff_reply(
            clinic.alice_user, item.id, item.version, body="fake", session=session, now=now
        )
    with pytest.raises(Exception, match="for clinic staff"):
        triage.claim(clinic.alice_user, item.id, item.version, session=session, now=now)


def test_proxy_can_message_for_granted_patient_only(session, now):
    clinic = make_clinic(session)
    thread = messages.start_thread(
        clinic.proxy,
        clinic.alice.id,
        recipient="billing",
        subject="",
        body="Question about a bill",
        session=session,
        now=now,
    )
    assert thread.subject == "Question about a bill"
    with pytest.raises(NotYourRecord):
        messages.start_thread(
            clinic.proxy,
            clinic.bob.id,
            recipient="billing",
            subject="",
            body="x",
            session=session,
            now=now,
        )


def test_staff_reply_notifies_patient_and_shows_unread(session, now):
    clinic = make_clinic(session)
    thread = _send(clinic, session, now)
    item = session.exec(select(TriageItem)).one()
    messages.staff_reply(
        clinic.nurse, item.id, item.version, body="Please rest it.", session=session, now=now
    )
    assert messages.unread_count(clinic.alice_user, clinic.alice.id, session=session, now=now) == 1
    rows = messages.list_threads(clinic.alice_user, clinic.alice.id, session=session, now=now)
    assert [(r.unread, r.message_count) for r in rows] == [(1, 2)]
    view = messages.read_thread(clinic.alice_user, thread.id, session=session, now=now)
    assert [m.from_staff for m in view.messages] == [False, True]
    assert messages.unread_count(clinic.alice_user, clinic.alice.id, session=session, now=now) == 0
    session.refresh(item)
    assert item.status == "closed"


def test_patient_reply_reopens_a_closed_item(session, now):
    clinic = make_clinic(session)
    thread = _send(clinic, session, now)
    item = session.exec(select(TriageItem)).one()
    messages.staff_reply(clinic.nurse, item.id, item.version, body="ok", session=session, now=now)
    messages.patient_reply(
        clinic.alice_user, thread.id, body="Still hurts", session=session, now=now
    )
    session.refresh(item)
    assert item.status == "new" and item.assignee_user_id is None
    actions = [h.event.action for h in triage.history(clinic.nurse, item.id, session=session)]
    assert actions == ["created", "replied", "reopened"]


def test_unknown_recipient_is_refused(session, now):
    clinic = make_clinic(session)
    with pytest.raises(InvalidInput, match="who the message is for"):
        messages.start_thread(
            clinic.alice_user,
            clinic.alice.id,
            recipient="ceo",
            subject="",
            body="x",
            session=session,
            now=now,
        )
