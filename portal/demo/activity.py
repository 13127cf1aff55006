"""The demo clinic's portal life: provider hours (so open slots exist), upcoming visits, messages,
refill requests, a profile change and a visit request, with the notifications they cause.

Everything goes through the services the pages call, acted by the demo accounts at fixed offsets
before ``now``, and the few choices are drawn from a seeded random generator, so the same seed
and ``now`` give the same clinic. It runs once: a database that already has provider hours is
left as it is (a restart must not double the inbox).
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from db.models import (
    MedicationRequest,
    Patient,
    Practitioner,
    Role,
    ScheduleTemplate,
    TriageItem,
    User,
    saved_id,
    saved_ids,
)
from portal.config import get_settings
from portal.demo import visit_history
from portal.demo.generator import DR_PATEL, SHOWCASE_CHILDREN, SHOWCASE_PATIENT, patient_fhir_id
from portal.demo.people import CLINICIANS
from portal.services import messages, profile_changes, refills, triage
from portal.services.scheduling import (
    availability,
    booking,
    checkin,
    provider_schedule,
    visit_requests,
)
from portal.services.scheduling.errors import DuplicateVisit

# Two blocks a weekday, clinic local time.
BLOCKS = ((time(8, 30), time(12, 0)), (time(13, 0), time(17, 0)))
SLOT_MINUTES = 20
PHYSICIAN_TYPES = ["annual", "follow_up", "new_problem", "new_patient"]
ADVANCED_PRACTICE_TYPES = ["follow_up", "new_problem"]
# Clinicians who also see patients by video (everyone but the paediatrician).
IN_PERSON_ONLY = {"demo-prac-04"}
# How many of other patients' visits fill the first days of the staff calendar.
CALENDAR_VISITS = 6


@dataclass
class Activity:
    """What the demo's portal activity added, for the summary printed at first start."""

    templates: int = 0
    bookings: int = 0
    past_visits: int = 0
    past_no_shows: int = 0
    at_risk: int = 0
    messages: int = 0
    refills: int = 0
    open_inbox_items: int = 0
    skipped: bool = False
    notes: list[str] = field(default_factory=list)


def seed_portal_activity(*, session: Session, seed: int, now: datetime) -> Activity:
    """Add the demo's hours, visits and requests (once; a second call changes nothing)."""
    activity = Activity()
    if session.exec(select(ScheduleTemplate.id).limit(1)).first() is not None:
        activity.skipped = True
        return activity
    rng = random.Random(f"portal-activity-{seed}")
    users = {u.username: u for u in session.exec(select(User)).all()}
    front_desk, nurse, doctor = users["frontdesk"], users["nurse"], users["drpatel"]
    patient_user, caregiver = users["patient"], users["caregiver"]
    practitioners = _practitioners(session)

    activity.templates = _hours(session, front_desk, practitioners, now)
    patel = practitioners[DR_PATEL.fhir_id]
    activity.bookings += _showcase_visits(session, patient_user, patel, now)
    history = _visit_history(session, practitioners, rng, now)
    activity.past_visits, activity.past_no_shows = history.visits, history.no_shows
    activity.at_risk = history.upcoming_at_risk
    activity.bookings += history.upcoming_at_risk
    activity.bookings += _calendar(session, front_desk, patel, rng, now)
    activity.messages, activity.refills = _requests(
        session, patient_user=patient_user, caregiver=caregiver, nurse=nurse, doctor=doctor, now=now
    )
    activity.open_inbox_items = _open_items(session, nurse, now)
    return activity


def _visit_history(
    session: Session,
    practitioners: dict[str, Practitioner],
    rng: random.Random,
    now: datetime,
) -> visit_history.History:
    """A past year of visits with no-shows, Dr. Patel's first (the staff calendar's default)."""
    providers = [
        visit_history.Provider(
            practitioners[c.fhir_id],
            PHYSICIAN_TYPES if c.degree in ("MD", "DO") else ADVANCED_PRACTICE_TYPES,
        )
        for c in sorted(CLINICIANS, key=lambda c: c.fhir_id != DR_PATEL.fhir_id)
        if c.fhir_id in practitioners
    ]
    history = visit_history.seed_visit_history(
        session=session,
        rng=random.Random(f"visit-history-{rng.random()}"),
        now=now,
        tz=get_settings().tz,
        providers=providers,
        patient_ids=_other_patients(session),
        blocks=BLOCKS,
        slot_minutes=SLOT_MINUTES,
    )
    session.commit()
    return history


def _other_patients(session: Session) -> list[int]:
    """Everyone but the showcase family, whose screens the demo walkthrough describes."""
    showcase = {patient_fhir_id(n) for n in (SHOWCASE_PATIENT, *SHOWCASE_CHILDREN)}
    return saved_ids(
        pid
        for pid, fhir_id in session.exec(
            select(Patient.id, Patient.fhir_id).order_by(col(Patient.id))
        )
        if fhir_id not in showcase
    )


def _open_items(session: Session, staff: User, now: datetime) -> int:
    return len(triage.list_items(staff, session=session, now=now))


def _practitioners(session: Session) -> dict[str, Practitioner]:
    ids = [c.fhir_id for c in CLINICIANS]
    rows = session.exec(select(Practitioner).where(col(Practitioner.fhir_id).in_(ids))).all()
    return {p.fhir_id: p for p in rows}


def _hours(
    session: Session, actor: User, practitioners: dict[str, Practitioner], now: datetime
) -> int:
    added = 0
    for clinician in CLINICIANS:
        practitioner = practitioners.get(clinician.fhir_id)
        if practitioner is None:
            continue
        physician = clinician.degree in ("MD", "DO")
        for weekday in range(5):
            for start, end in BLOCKS:
                provider_schedule.add_template(
                    actor,
                    session=session,
                    now=now,
                    practitioner_id=saved_id(practitioner),
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                    slot_minutes=SLOT_MINUTES,
                    visit_types=PHYSICIAN_TYPES if physician else ADVANCED_PRACTICE_TYPES,
                    in_person=True,
                    video=clinician.fhir_id not in IN_PERSON_ONLY,
                )
                added += 1
    return added


def _slots(
    session: Session, practitioner: Practitioner, visit_type: str, mode: str, **window: Any
) -> list[availability.Slot]:
    return availability.open_slots(
        session=session,
        practitioner_id=practitioner.id,
        visit_type=visit_type,
        mode=mode,
        **window,
    )


def _showcase_visits(session: Session, user: User, patel: Practitioner, now: datetime) -> int:
    """The demo patient's own bookings: an annual physical and a video follow-up."""
    booked = 0
    for visit_type, mode, days in (("annual", "in_person", 9), ("follow_up", "video", 23)):
        slots = _slots(
            session,
            patel,
            visit_type,
            mode,
            now=now,
            start=now + timedelta(days=days),
            end=now + timedelta(days=days + 14),
            limit=1,
        )
        if not slots:
            continue
        booking.book(
            user,
            session=session,
            now=now,
            patient_id=_own_record(user),
            practitioner_id=saved_id(patel),
            start=slots[0].start,
            visit_type=visit_type,
            mode=mode,
        )
        booked += 1
    return booked


def _calendar(
    session: Session,
    front_desk: User,
    patel: Practitioner,
    rng: random.Random,
    now: datetime,
) -> int:
    """Other patients booked into Dr. Patel's next days, one of them checked in by phone."""
    showcase = {patient_fhir_id(n) for n in (SHOWCASE_PATIENT, *SHOWCASE_CHILDREN)}
    others = [
        p
        for p in session.exec(select(Patient).order_by(Patient.fhir_id)).all()
        if p.fhir_id not in showcase
    ]
    if not others:
        return 0
    slots = _slots(
        session,
        patel,
        "follow_up",
        "in_person",
        now=now,
        start=now + timedelta(hours=2),
        end=now + timedelta(days=7),
        limit=CALENDAR_VISITS * 3,
    )
    chosen = sorted(rng.sample(slots, min(CALENDAR_VISITS, len(slots))), key=lambda s: s.start)
    booked = []
    for slot in chosen:
        # Anyone free that day: the booking rules refuse a second visit the same morning.
        for patient in rng.sample(others, len(others)):
            try:
                booked.append(
                    booking.book(
                        front_desk,
                        session=session,
                        now=now,
                        patient_id=saved_id(patient),
                        practitioner_id=saved_id(patel),
                        start=slot.start,
                        visit_type="follow_up",
                    )
                )
                break
            except DuplicateVisit:
                continue
    if booked:
        checkin.submit(
            front_desk,
            saved_id(booked[-1]),
            session=session,
            now=now,
            answers={"concerns": "Blood pressure readings at home have been higher."},
            contact_confirmed=True,
            medications_confirmed=True,
            allergies_confirmed=True,
        )
    return len(booked)


def _own_record(user: User) -> int:
    """The patient record of a showcase patient's account (seeded with one)."""
    if user.patient_id is None:
        raise ValueError(f"demo account {user.username} has no patient record")
    return user.patient_id


def _inbox_item(session: Session, kind: str, ref_id: int) -> TriageItem:
    """The inbox item a request just filed (filing always makes one)."""
    item = triage._item_for(session, kind, ref_id)
    if item is None:
        raise ValueError(f"no inbox item for {kind} {ref_id}")
    return item


def _active_medications(session: Session, patient_id: int) -> list[MedicationRequest]:
    return list(
        session.exec(
            select(MedicationRequest)
            .where(
                MedicationRequest.patient_id == patient_id,
                MedicationRequest.status == "active",
            )
            .order_by(col(MedicationRequest.id))
        ).all()
    )


def _requests(
    session: Session,
    *,
    patient_user: User,
    caregiver: User,
    nurse: User,
    doctor: User,
    now: datetime,
) -> tuple[int, int]:
    """Messages (one answered, two waiting), refills (one approved, one waiting), a profile
    change and a visit request: a care team reply and a decision are unread on Home."""
    patient_id = _own_record(patient_user)
    answered = messages.start_thread(
        patient_user,
        patient_id,
        recipient="care_team",
        subject="Question about my medication",
        body="Should I take my morning tablets before or after breakfast?",
        session=session,
        now=now - timedelta(days=2, hours=3),
    )
    item = _inbox_item(session, messages.KIND, saved_id(answered))
    messages.staff_reply(
        nurse,
        saved_id(item),
        item.version,
        body="Please take them with breakfast; it is easier on the stomach. Riley, RN",
        session=session,
        now=now - timedelta(days=1, hours=20),
    )
    messages.start_thread(
        patient_user,
        patient_id,
        recipient="billing",
        subject="Statement from my last visit",
        body="I received a statement for my last visit. Is that the copay?",
        session=session,
        now=now - timedelta(hours=3),
    )
    child_ids = [pid for pid in _granted(session, caregiver)]
    sent = 2
    if child_ids:
        messages.start_thread(
            caregiver,
            child_ids[0],
            recipient="care_team",
            subject="Inhaler before sports",
            body="Should she use her inhaler before football practice?",
            session=session,
            now=now - timedelta(hours=5),
        )
        sent += 1
    if len(child_ids) > 1:
        visit_requests.request_visit(
            caregiver,
            session=session,
            now=now - timedelta(hours=6),
            patient_id=child_ids[1],
            visit_type="annual",
            preferred_days=[0, 2, 4],
            preferred_parts=["morning"],
            preferred_times="Before 10 if possible",
            reason="Yearly check-up for school",
        )

    meds = _active_medications(session, patient_id)
    refill_count = 0
    if len(meds) > 1:
        approved = refills.request_refill(
            patient_user,
            patient_id,
            saved_id(meds[1]),
            pharmacy="Elm Street Pharmacy",
            session=session,
            now=now - timedelta(days=6),
        )
        item = _inbox_item(session, refills.KIND, saved_id(approved))
        triage.claim(
            doctor, saved_id(item), item.version, session=session, now=now - timedelta(days=5)
        )
        session.refresh(item)
        refills.decide_refill(
            doctor,
            saved_id(item),
            item.version,
            approve=True,
            session=session,
            now=now - timedelta(days=5),
        )
        refill_count += 1
    if meds:
        refills.request_refill(
            patient_user,
            patient_id,
            saved_id(meds[0]),
            pharmacy="Elm Street Pharmacy",
            note="Running low: about a week left.",
            session=session,
            now=now - timedelta(days=1),
        )
        refill_count += 1
    profile_changes.request_changes(
        patient_user,
        patient_id,
        {"preferred_pharmacy": "Elm Street Pharmacy, 12 Elm Street"},
        session=session,
        now=now - timedelta(hours=2),
    )
    return sent, refill_count


def _granted(session: Session, user: User) -> list[int]:
    from portal.services.access import viewable_patient_ids

    return viewable_patient_ids(user, session=session) if user.role == Role.PROXY else []
