"""Notification emails. They only say that something changed: health details never leave the
portal by email, because email is neither private nor reliably addressed."""

import logging
import smtplib
from email.message import EmailMessage

from portal.config import Settings

log = logging.getLogger(__name__)

SUBJECT = "You have a new update in your patient portal"


def email_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def build_update_email(to: str, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = SUBJECT
    message.set_content(
        f"You have a new update in your patient portal at {settings.clinic_name}.\n\n"
        "Please sign in to the portal to read it.\n\n"
        "This message was sent automatically; please do not reply to it."
    )
    return message


def send_update_email(to: str, settings: Settings) -> bool:
    """Send the generic update email; returns False (and logs, without the address) on failure.

    A failed email must never undo the change it announces, so errors are swallowed here.
    """
    if not to:
        return False
    return send(build_update_email(to, settings), settings, what="notification")


def send(message: EmailMessage, settings: Settings, *, what: str) -> bool:
    """Send one message through the clinic's SMTP server; False when email is off or sending
    failed. A failure is logged as "``what`` email failed" with the error's type only: never the
    address (PHI-adjacent), and never raised, so it cannot undo what the email announces."""
    if not settings.smtp_host:  # email_enabled(settings), spelled out for the type checker
        return False
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(message)
        return True
    except (OSError, smtplib.SMTPException) as error:
        log.warning("%s email failed: %s", what, type(error).__name__)
        return False
