"""Staff edit provider weekly templates and exceptions (holidays, time off)."""

from datetime import datetime, time

from sqlmodel import Session, col, select

from db.models import Practitioner, ScheduleException, ScheduleTemplate, User
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import audit
from portal.services.permissions import require_permission
from portal.services.rows import get_or_not_found
from portal.services.scheduling.visit_types import VISIT_TYPES

CATEGORY = "scheduling_admin"


def practitioners(*, session: Session) -> list[Practitioner]:
    """Everyone a patient may book with or staff may schedule for, by name."""
    return list(session.exec(select(Practitioner).order_by(Practitioner.name)).all())


def templates(actor: User, *, session: Session, practitioner_id: int) -> list[ScheduleTemplate]:
    require_permission(actor, Action.MANAGE_SCHEDULES, session=session, now=None)
    return list(
        session.exec(
            select(ScheduleTemplate)
            .where(ScheduleTemplate.practitioner_id == practitioner_id)
            .order_by(col(ScheduleTemplate.weekday), col(ScheduleTemplate.start_time))
        ).all()
    )


def add_template(
    actor: User,
    *,
    session: Session,
    now: datetime,
    practitioner_id: int,
    weekday: int,
    start_time: time,
    end_time: time,
    slot_minutes: int,
    visit_types: list[str],
    in_person: bool,
    video: bool,
) -> ScheduleTemplate:
    require_permission(actor, Action.MANAGE_SCHEDULES, session=session, now=now)
    if not 0 <= weekday <= 6:
        raise InvalidInput("Please choose a weekday.")
    if end_time <= start_time:
        raise InvalidInput("The block must end after it starts.")
    if not 5 <= slot_minutes <= 240:
        raise InvalidInput("Slot length must be between 5 and 240 minutes.")
    unknown = [v for v in visit_types if v not in VISIT_TYPES]
    if not visit_types or unknown:
        raise InvalidInput("Please choose at least one known visit type.")
    if not (in_person or video):
        raise InvalidInput("Choose in person, video, or both.")
    template = ScheduleTemplate(
        practitioner_id=practitioner_id,
        weekday=weekday,
        start_time=start_time,
        end_time=end_time,
        slot_minutes=slot_minutes,
        visit_types=",".join(visit_types),
        in_person=in_person,
        video=video,
    )
    session.add(template)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="template_add",
        now=now,
        detail=f"practitioner {practitioner_id}",
    )
    session.commit()
    return template


def remove_template(actor: User, template_id: int, *, session: Session, now: datetime) -> None:
    """Deactivate (not delete) so the history of what was offered stays readable."""
    require_permission(actor, Action.MANAGE_SCHEDULES, session=session, now=now)
    template = get_or_not_found(session, ScheduleTemplate, template_id)
    template.active = False
    session.add(template)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="template_remove",
        now=now,
        detail=f"template {template_id}",
    )
    session.commit()


def exceptions(
    actor: User, *, session: Session, practitioner_id: int | None, after: datetime
) -> list[ScheduleException]:
    """Upcoming exceptions for one practitioner, plus clinic-wide closures."""
    require_permission(actor, Action.MANAGE_SCHEDULES, session=session, now=None)
    query = select(ScheduleException).where(ScheduleException.end > after)
    if practitioner_id is not None:
        query = query.where(
            (col(ScheduleException.practitioner_id) == practitioner_id)
            | col(ScheduleException.practitioner_id).is_(None)
        )
    return list(session.exec(query.order_by(col(ScheduleException.start))).all())


def add_exception(
    actor: User,
    *,
    session: Session,
    now: datetime,
    practitioner_id: int | None,
    start: datetime,
    end: datetime,
    reason: str,
) -> ScheduleException:
    """Block time. Visits already booked then stay booked: staff move them one by one."""
    require_permission(actor, Action.MANAGE_SCHEDULES, session=session, now=now)
    if end <= start:
        raise InvalidInput("The time off must end after it starts.")
    row = ScheduleException(
        practitioner_id=practitioner_id,
        start=start,
        end=end,
        reason=reason.strip()[:200],
        created_by_user_id=actor.id,
    )
    session.add(row)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="exception_add",
        now=now,
        detail=f"practitioner {practitioner_id or 'all'}",
    )
    session.commit()
    return row
