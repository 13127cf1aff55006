"""Visit reminders: a job function with no side effects at import, for the app's scheduler.

``send_due_reminders`` is safe to run from several replicas at once: a ReminderSent row is
inserted (unique per booking and offset) before anything is sent, so only one run sends each.
In-app always; email when SMTP is configured, saying only when the visit is, never what for.
"""

from datetime import datetime, timedelta
from email.message import EmailMessage

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import Booking, BookingStatus, ReminderSent, saved_id
from portal.config import Settings, get_settings
from portal.services import email, notifications
from portal.services.notifications import _email_address
from portal.services.scheduling import notices
from portal.services.scheduling.visit_types import label


def schedule_hours(settings: Settings) -> list[int]:
    """Reminder offsets in hours, largest first ("72,24" -> [72, 24])."""
    hours = {int(h) for h in settings.reminder_schedule_hours.split(",") if h.strip()}
    return sorted((h for h in hours if h > 0), reverse=True)


def _claim(session: Session, booking: Booking, offsets: list[int], now: datetime) -> bool:
    """Record every due offset as sent; False when another run already claimed one."""
    try:
        for offset in offsets:
            session.add(
                ReminderSent(booking_id=saved_id(booking), offset_hours=offset, sent_at=now)
            )
        session.flush()
        return True
    except IntegrityError:
        session.rollback()
        return False


def reminder_email(to: str, start: datetime, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = f"Reminder: upcoming visit at {settings.clinic_name}"
    message.set_content(
        f"You have an upcoming visit at {settings.clinic_name} on {notices.when(start)}.\n\n"
        f"Sign in to the patient portal for details, check-in, or to make changes: "
        f"{settings.portal_url}\n\n"
        "This message was sent automatically; please do not reply to it."
    )
    return message


def send_due_reminders(*, session: Session, now: datetime) -> int:
    """Send every reminder that is due at ``now``; returns how many visits were reminded.

    A visit booked late gets one reminder, not one per missed offset.
    """
    settings = get_settings()
    offsets = schedule_hours(settings)
    if not offsets:
        return 0
    horizon = now + timedelta(hours=offsets[0])
    bookings = session.exec(
        select(Booking)
        .where(
            Booking.status == BookingStatus.BOOKED,
            Booking.start > now,
            Booking.start <= horizon,
        )
        .order_by(col(Booking.start))
    ).all()
    sent = 0
    for booking in bookings:
        already = set(
            session.exec(
                select(ReminderSent.offset_hours).where(ReminderSent.booking_id == booking.id)
            ).all()
        )
        due = [h for h in offsets if booking.start - timedelta(hours=h) <= now]
        new = [h for h in due if h not in already]
        if not new or not _claim(session, booking, new, now):
            continue
        notifications.notify(
            session=session,
            patient_id=booking.patient_id,
            kind="visit_reminder",
            text=f"Reminder: {label(booking.visit_type)} on {notices.when(booking.start)}. "
            "You can check in online before your visit.",
            now=now,
            link_page="appointments",
        )
        session.commit()
        sent += 1
        if email.email_enabled(settings):
            address = _email_address(booking.patient_id, session=session)
            # The in-app reminder is stored already: a failed email is logged and passed over.
            reminder = reminder_email(address, booking.start, settings) if address else None
            if reminder is not None and email.send(reminder, settings, what="reminder"):
                for row in session.exec(
                    select(ReminderSent).where(
                        ReminderSent.booking_id == booking.id,
                        col(ReminderSent.offset_hours).in_(new),
                    )
                ).all():
                    row.emailed = True
                    session.add(row)
                session.commit()
    return sent
