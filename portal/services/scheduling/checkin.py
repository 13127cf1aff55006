"""Pre-visit check-in: the patient confirms contact details, medications and allergies and
answers the visit type's questions, stored as structured answers the clinician reads."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import Booking, BookingStatus, CheckIn, CheckInAnswer, User, saved_id
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import audit, audited_reads
from portal.services.access import require_patient_access
from portal.services.permissions import require_permission
from portal.services.rows import get_or_not_found
from portal.services.scheduling.visit_types import VISIT_TYPES

CATEGORY = "checkin"
# PHQ-2 of 3 or more (of 6) suggests further screening (Kroenke 2003).
PHQ2_POSITIVE = 3
FREQUENCY = ["Not at all", "Several days", "More than half the days", "Nearly every day"]


@dataclass(frozen=True)
class Question:
    code: str
    text: str
    choices: tuple[str, ...] = ()  # empty: free text; else the index is the scored value


QUESTIONNAIRES: dict[str, tuple[Question, ...]] = {
    # PHQ-2 (Kroenke 2003), over the last two weeks; 3 or more suggests further screening.
    "phq2": (
        Question("phq2_interest", "Little interest or pleasure in doing things", tuple(FREQUENCY)),
        Question("phq2_mood", "Feeling down, depressed, or hopeless", tuple(FREQUENCY)),
        Question("concerns", "What would you like to discuss at this visit?"),
    ),
    "general": (Question("concerns", "What would you like to discuss at this visit?"),),
}


def questions_for(visit_type: str) -> tuple[Question, ...]:
    visit = VISIT_TYPES.get(visit_type)
    return QUESTIONNAIRES[visit.questionnaire if visit else "general"]


def submit(
    actor: User,
    booking_id: int,
    *,
    session: Session,
    now: datetime,
    answers: dict[str, str],
    contact_confirmed: bool,
    medications_confirmed: bool,
    allergies_confirmed: bool,
) -> CheckIn:
    """Store a check-in once per visit; every choice must be one the question offers."""
    booking = get_or_not_found(session, Booking, booking_id, "We could not find that visit.")
    require_patient_access(actor, booking.patient_id, session=session, category=CATEGORY, now=now)
    if booking.status != BookingStatus.BOOKED or booking.end <= now:
        raise InvalidInput("Check-in is only open for upcoming visits.")
    questions = questions_for(booking.visit_type)
    rows, score = [], None
    for q in questions:
        answer = (answers.get(q.code) or "").strip()[:500]
        value = None
        if q.choices:
            if answer not in q.choices:
                raise InvalidInput(f"Please answer: {q.text}")
            value = q.choices.index(answer)
            score = (score or 0) + value
        rows.append((q, answer, value))
    checkin = CheckIn(
        booking_id=saved_id(booking),
        patient_id=booking.patient_id,
        questionnaire=VISIT_TYPES[booking.visit_type].questionnaire
        if booking.visit_type in VISIT_TYPES
        else "general",
        contact_confirmed=contact_confirmed,
        medications_confirmed=medications_confirmed,
        allergies_confirmed=allergies_confirmed,
        score=score,
        submitted_by_user_id=actor.id,
        submitted_at=now,
    )
    try:
        session.add(checkin)
        session.flush()
    except IntegrityError:
        session.rollback()
        raise InvalidInput("You have already checked in for this visit.") from None
    for q, answer, value in rows:
        session.add(
            CheckInAnswer(
                checkin_id=saved_id(checkin),
                question_code=q.code,
                question_text=q.text,
                answer_text=answer,
                answer_value=value,
            )
        )
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="write",
        patient_id=booking.patient_id,
        now=now,
        detail=f"booking {booking.id}",
    )
    session.commit()
    return checkin


def answers_for(
    actor: User, booking_id: int, *, session: Session, now: datetime
) -> tuple[CheckIn, list[CheckInAnswer]] | None:
    """The check-in and its answers for a visit (what the clinician reads), or None."""
    booking = get_or_not_found(session, Booking, booking_id)
    require_patient_access(actor, booking.patient_id, session=session, category=CATEGORY, now=now)
    checkin = session.exec(select(CheckIn).where(CheckIn.booking_id == booking_id)).first()
    if checkin is None:
        return None
    answers = session.exec(
        select(CheckInAnswer)
        .where(CheckInAnswer.checkin_id == checkin.id)
        .order_by(col(CheckInAnswer.id))
    ).all()
    audited_reads.log_read(
        actor,
        booking.patient_id,
        session=session,
        category=CATEGORY,
        detail=f"booking {booking.id}",
        now=now,
    )
    return checkin, list(answers)


def checked_in_booking_ids(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> set[int]:
    """The patient's visits that already have a check-in (so the page offers the form once)."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    return set(session.exec(select(CheckIn.booking_id).where(CheckIn.patient_id == patient_id)))


def for_bookings(
    actor: User, booking_ids: list[int], *, session: Session, now: datetime
) -> dict[int, tuple[CheckIn, list[CheckInAnswer]]]:
    """Staff: the check-ins of these visits with their answers, by booking id (one query each)."""
    require_permission(actor, Action.BOOK_FOR_PATIENTS, session=session, now=now)
    if not booking_ids:
        return {}
    checkins = list(
        session.exec(select(CheckIn).where(col(CheckIn.booking_id).in_(booking_ids))).all()
    )
    if not checkins:
        return {}
    answers: dict[int, list[CheckInAnswer]] = {saved_id(c): [] for c in checkins}
    for answer in session.exec(
        select(CheckInAnswer)
        .where(col(CheckInAnswer.checkin_id).in_(list(answers)))
        .order_by(col(CheckInAnswer.id))
    ):
        answers[answer.checkin_id].append(answer)
    for patient_id in sorted({c.patient_id for c in checkins}):
        audited_reads.log_read(
            actor,
            patient_id,
            session=session,
            category=CATEGORY,
            detail="check-in answers",
            now=now,
        )
    session.commit()
    return {c.booking_id: (c, answers[saved_id(c)]) for c in checkins}


def score_note(checkin: CheckIn) -> str:
    """What a PHQ-2 score means for the clinician, in one line ('' for other questionnaires)."""
    if checkin.questionnaire != "phq2" or checkin.score is None:
        return ""
    if checkin.score >= PHQ2_POSITIVE:
        return f"PHQ-2 score {checkin.score} of 6: positive screen, consider a PHQ-9."
    return f"PHQ-2 score {checkin.score} of 6: negative screen."
