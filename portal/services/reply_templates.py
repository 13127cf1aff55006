"""Saved replies staff pick from in the reply box."""

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import ReplyTemplate, User
from portal.permissions import Action
from portal.services.permissions import require_permission

# Also seeded by migration 0002; kept here so an emptied database (tests, a fresh demo) gets them.
DEFAULT_TEMPLATES = (
    (
        "Received, reviewing",
        "Thank you for your message. A member of your care team is reviewing it and will "
        "reply within one business day.",
    ),
    (
        "Refill sent to pharmacy",
        "Your refill has been sent to your pharmacy. Please allow 1-2 business days "
        "before picking it up.",
    ),
    (
        "Please book a visit",
        "Thank you for reaching out. This is best discussed at a visit; please book an "
        "appointment in the portal or call the front desk.",
    ),
    ("Profile updated", "We have updated your contact details as requested."),
)


def ensure_defaults(*, session: Session) -> None:
    """Add the default templates when the table is empty (safe to call from several replicas)."""
    if session.exec(select(ReplyTemplate.id).limit(1)).first() is not None:
        return
    session.add_all(ReplyTemplate(title=t, body=b) for t, b in DEFAULT_TEMPLATES)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()  # another process seeded them first


def active_templates(actor: User, *, session: Session) -> list[ReplyTemplate]:
    require_permission(actor, Action.REPLY_TO_MESSAGES, session=session, now=None)
    ensure_defaults(session=session)
    return list(
        session.exec(
            select(ReplyTemplate)
            .where(col(ReplyTemplate.active).is_(True))
            .order_by(ReplyTemplate.title)
        ).all()
    )
