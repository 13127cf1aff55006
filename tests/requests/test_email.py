"""Notification emails against a real SMTP server (aiosmtpd) on a free local port."""

import socket
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from db.models import TriageItem
from portal.config import get_settings
from portal.services import messages, refills
from tests.requests.helpers import create_medication, make_clinic


class _Inbox:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.received.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_inbox(monkeypatch):
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(port))
    monkeypatch.setenv("SMTP_STARTTLS", "false")
    get_settings.cache_clear()
    yield inbox
    controller.stop()
    get_settings.cache_clear()


def test_refill_decision_emails_the_patient_without_health_details(smtp_inbox, session, now):
    clinic = make_clinic(session)
    med = create_medication(session, clinic.alice, display="Metformin 500 mg tablet")
    refills.request_refill(
        clinic.alice_user, clinic.alice.id, med.id, pharmacy="Elm", session=session, now=now
    )
    item = session.exec(select(TriageItem)).one()
    refills.decide_refill(
        clinic.doctor,
        item.id,
        item.version,
        approve=False,
        reason="Your A1c is too high",
        session=session,
        now=now,
    )
    [(recipients, email)] = smtp_inbox.received
    assert recipients == ["alice@example.com"]
    assert email["Subject"] == "You have a new update in your patient portal"
    text = email.get_payload(decode=True).decode()
    for secret in ("Metformin", "A1c", "denied", "Alice", "Archer"):
        assert secret not in text and secret not in email["Subject"]


def test_reply_email_is_generic_too(smtp_inbox, session, now):
    clinic = make_clinic(session)
    messages.start_thread(
        clinic.alice_user,
        clinic.alice.id,
        recipient="care_team",
        subject="HIV test result",
        body="Is it positive?",
        session=session,
        now=now,
    )
    item = session.exec(select(TriageItem)).one()
    messages.staff_reply(
        clinic.nurse, item.id, item.version, body="Negative.", session=session, now=now
    )
    [(_, email)] = smtp_inbox.received
    text = email.get_payload(decode=True).decode()
    assert "HIV" not in text and "Negative" not in text and "HIV" not in email["Subject"]


def test_no_smtp_settings_means_no_email_and_no_error(session, now):
    get_settings.cache_clear()
    assert get_settings().smtp_host is None
    clinic = make_clinic(session)
    messages.start_thread(
        clinic.alice_user,
        clinic.alice.id,
        recipient="care_team",
        subject="",
        body="hi",
        session=session,
        now=now,
    )
    item = session.exec(select(TriageItem)).one()
    messages.staff_reply(clinic.nurse, item.id, item.version, body="ok", session=session, now=now)


def test_unreachable_smtp_server_does_not_undo_the_decision(session, now, monkeypatch):
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(_free_port()))  # nothing listens here
    get_settings.cache_clear()
    try:
        clinic = make_clinic(session)
        med = create_medication(session, clinic.alice)
        refills.request_refill(
            clinic.alice_user, clinic.alice.id, med.id, pharmacy="Elm", session=session, now=now
        )
        item = session.exec(select(TriageItem)).one()
        refill = refills.decide_refill(
            clinic.doctor, item.id, item.version, approve=True, session=session, now=now
        )
        session.expire_all()
        assert refill.status == "approved"
    finally:
        get_settings.cache_clear()
