"""Reminders with a fake clock and a real local SMTP server (aiosmtpd)."""

import socket
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from sqlmodel import select

from db.models import Notification, ReminderSent
from portal.config import get_settings
from portal.services.scheduling import booking
from portal.services.scheduling.reminders import send_due_reminders
from tests.scheduling.conftest import WED_9AM

VISIT = WED_9AM + timedelta(days=5)  # Monday 30 Nov, 9:00 local


class Inbox(Message):
    def __init__(self):
        super().__init__()
        self.messages = []

    def handle_message(self, message):
        self.messages.append(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(monkeypatch):
    inbox = Inbox()
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


def _book(session, now, clinic):
    return booking.book(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=clinic.smith.id,
        start=VISIT,
        visit_type="annual",
    )


def test_reminders_go_out_once_each_at_72_and_24_hours(session, now, clinic, smtp):
    _book(session, now, clinic)
    assert send_due_reminders(session=session, now=VISIT - timedelta(hours=73)) == 0
    at_72 = VISIT - timedelta(hours=71)
    assert send_due_reminders(session=session, now=at_72) == 1
    assert send_due_reminders(session=session, now=at_72 + timedelta(minutes=5)) == 0
    at_24 = VISIT - timedelta(hours=23)
    assert send_due_reminders(session=session, now=at_24) == 1
    assert send_due_reminders(session=session, now=at_24 + timedelta(hours=1)) == 0

    sent = session.exec(select(ReminderSent).order_by(ReminderSent.offset_hours)).all()
    assert [(r.offset_hours, r.emailed) for r in sent] == [(24, True), (72, True)]
    notes = session.exec(select(Notification).where(Notification.kind == "visit_reminder"))
    assert len(notes.all()) == 2
    assert len(smtp.messages) == 2
    body = smtp.messages[0].get_payload()
    assert smtp.messages[0]["To"] == "alice@x.test"
    # No health details by email: neither the visit type nor the provider.
    assert "Annual" not in body and "Smith" not in body and "Mon 30 Nov 2026" in body


def test_late_booking_gets_one_reminder_not_two(session, now, clinic):
    _book(session, now, clinic)
    assert send_due_reminders(session=session, now=VISIT - timedelta(hours=10)) == 1
    assert send_due_reminders(session=session, now=VISIT - timedelta(hours=9)) == 0
    assert len(session.exec(select(ReminderSent)).all()) == 2


def test_cancelled_visit_gets_no_reminder(session, now, clinic):
    b = _book(session, now, clinic)
    booking.cancel(clinic.alice_user, b.id, session=session, now=now)
    assert send_due_reminders(session=session, now=VISIT - timedelta(hours=1)) == 0
