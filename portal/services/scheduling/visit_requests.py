"""Visit requests: when no slot suits, the patient asks (what for, which days and times, which
provider) and staff book it straight from the triage inbox with the slot picker filtered by
those preferences; booking closes the request and tells the patient."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from db.models import (
    Booking,
    Patient,
    Practitioner,
    TriageItem,
    TriageStatus,
    User,
    VisitMode,
    VisitRequest,
    VisitRequestStatus,
)
from portal.config import get_settings
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import notifications, triage
from portal.services.access import require_patient_access
from portal.services.audited_reads import log_read
from portal.services.permissions import require_permission
from portal.services.rows import get_or_not_found
from portal.services.scheduling import availability, booking
from portal.services.scheduling.availability import Slot
from portal.services.scheduling.notices import when
from portal.services.scheduling.visit_types import MODE_LABELS, VISIT_TYPES, label
from portal.timefmt import to_local

KIND = "visit_request"
CATEGORY = "appointments"
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Parts of the clinic day a patient can prefer: [from, to) in local hours.
DAY_PARTS = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}
PART_LABELS = {"morning": "Mornings", "afternoon": "Afternoons", "evening": "Evenings"}
STATUS_WORDS: dict[str, str] = {
    VisitRequestStatus.OPEN: "Waiting for the clinic",
    VisitRequestStatus.SCHEDULED: "Booked",
    VisitRequestStatus.CLOSED: "Handled",
}


def _on_status_change(*, session: Session, ref_id: int, status: str, now: datetime) -> None:
    # Closing the inbox item closes the request, so the patient sees it was handled.
    request = session.get(VisitRequest, ref_id)
    if request and status == TriageStatus.CLOSED and request.status == VisitRequestStatus.OPEN:
        request.status = VisitRequestStatus.CLOSED
        session.add(request)


triage.register_kind(
    triage.KindSpec(
        kind=KIND, label="Visit request", on_status_change=_on_status_change, work_page="schedule"
    )
)


def _days(text: str) -> list[int]:
    return [int(d) for d in text.split(",") if d.strip().isdigit()]


def _parts(text: str) -> list[str]:
    return [p for p in text.split(",") if p in DAY_PARTS]


def describe_preferences(request: VisitRequest) -> str:
    """'Monday, Wednesday · Mornings' (or 'Any day · Any time'), in the words the patient chose."""
    days = ", ".join(WEEKDAYS[d] for d in _days(request.preferred_days)) or "Any day"
    parts = ", ".join(PART_LABELS[p] for p in _parts(request.preferred_parts)) or "Any time"
    return f"{days} · {parts}"


def request_visit(
    actor: User,
    *,
    session: Session,
    now: datetime,
    patient_id: int,
    visit_type: str,
    practitioner_id: int | None = None,
    mode: str | None = None,
    preferred_days: list[int] | tuple[int, ...] = (),
    preferred_parts: list[str] | tuple[str, ...] = (),
    preferred_times: str = "",
    reason: str = "",
) -> VisitRequest:
    """Store the request and put it in the staff inbox in one transaction."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    reason, preferred_times = reason.strip(), preferred_times.strip()
    if visit_type not in VISIT_TYPES:
        raise InvalidInput("Please choose a visit type.")
    if not reason:
        raise InvalidInput("Please tell us what the visit is for, so the clinic can book it.")
    if len(preferred_times) > 500 or len(reason) > 2000:
        raise InvalidInput("Please shorten your note.")
    if mode is not None and mode not in MODE_LABELS:
        raise InvalidInput("Please choose in person or video.")
    if any(d not in range(7) for d in preferred_days) or any(
        p not in DAY_PARTS for p in preferred_parts
    ):
        raise InvalidInput("Please choose days and times from the lists.")
    if practitioner_id is not None and session.get(Practitioner, practitioner_id) is None:
        raise InvalidInput("Please choose a provider from the list.")
    request = VisitRequest(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        visit_type=visit_type,
        mode=mode,
        preferred_days=",".join(str(d) for d in sorted(set(preferred_days))),
        preferred_parts=",".join(p for p in DAY_PARTS if p in preferred_parts),
        preferred_times=preferred_times,
        reason=reason,
        requested_by_user_id=actor.id,
        created_at=now,
    )
    triage.file_request(
        request,
        kind=KIND,
        summary=f"{label(visit_type)}: {reason[:150]}",  # the inbox names the kind
        actor=actor,
        audit_category=CATEGORY,
        audit_action="visit_request",
        session=session,
        now=now,
    )
    session.commit()
    return request


def open_requests(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> list[VisitRequest]:
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    requests = list(
        session.exec(
            select(VisitRequest)
            .where(VisitRequest.patient_id == patient_id)
            .order_by(col(VisitRequest.created_at).desc())
        ).all()
    )
    log_read(actor, patient_id, session=session, category="viewed visit requests", now=now)
    return requests


# --- the staff side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestView:
    """A visit request as staff read it in the triage item."""

    item: TriageItem
    request: VisitRequest
    patient_name: str
    provider_name: str  # "" when any provider will do
    preferences: str
    booked: Booking | None


def request_for_item(actor: User, item_id: int, *, session: Session, now: datetime) -> RequestView:
    """The request behind an inbox item (staff only; the read is audited)."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    item, request = triage.request_of_item(session, item_id, KIND, VisitRequest, "visit request")
    session.refresh(request)
    patient = get_or_not_found(session, Patient, request.patient_id)
    provider = (
        session.get(Practitioner, request.practitioner_id) if request.practitioner_id else None
    )
    view = RequestView(
        item=item,
        request=request,
        patient_name=patient.display_name if patient else "",
        provider_name=provider.name if provider else "",
        preferences=describe_preferences(request),
        booked=session.get(Booking, request.booking_id) if request.booking_id else None,
    )
    log_read(
        actor,
        request.patient_id,
        session=session,
        category=CATEGORY,
        now=now,
        detail=f"visit request {request.id}",
    )
    return view


def matches_preferences(request: VisitRequest, start: datetime) -> bool:
    local = to_local(start)
    days, parts = _days(request.preferred_days), _parts(request.preferred_parts)
    if days and local.weekday() not in days:
        return False
    return not parts or any(DAY_PARTS[p][0] <= local.hour < DAY_PARTS[p][1] for p in parts)


def slots_for_request(
    actor: User,
    request: VisitRequest,
    *,
    session: Session,
    now: datetime,
    use_preferences: bool = True,
    limit: int = 60,
) -> list[Slot]:
    """Open times for the request's visit type (and provider and mode, if the patient chose),
    on the days and at the times that suit the patient unless ``use_preferences`` is off."""
    require_permission(actor, Action.BOOK_FOR_PATIENTS, session=session, now=now)
    slots = availability.open_slots(
        session=session,
        now=now,
        start=now,
        end=now + timedelta(days=max(get_settings().booking_horizon_days, 30)),
        practitioner_id=request.practitioner_id if use_preferences else None,
        visit_type=request.visit_type,
        mode=request.mode,
        patient_id=request.patient_id,
    )
    if use_preferences:
        slots = [s for s in slots if matches_preferences(request, s.start)]
    return slots[:limit]


def book_from_request(
    actor: User,
    item_id: int,
    seen_version: int,
    *,
    session: Session,
    now: datetime,
    practitioner_id: int,
    start: datetime,
) -> Booking:
    """Book the requested visit, close the request and its inbox item and tell the patient, in
    one transaction (a taken slot or a changed item leaves everything as it was)."""
    require_permission(actor, Action.BOOK_FOR_PATIENTS, session=session, now=now)
    _, request = triage.request_of_item(session, item_id, KIND, VisitRequest, "visit request")
    if request.status != VisitRequestStatus.OPEN:
        raise InvalidInput("This visit request was already handled.")
    visit = booking.book(
        actor,
        session=session,
        now=now,
        patient_id=request.patient_id,
        practitioner_id=practitioner_id,
        start=start,
        visit_type=request.visit_type,
        mode=request.mode or VisitMode.IN_PERSON,
        commit=False,
    )
    provider = session.get(Practitioner, practitioner_id)
    what = f"{label(request.visit_type)} with {provider.name if provider else 'the clinic'}"
    triage.close(
        actor,
        item_id,
        seen_version,
        action="booked",
        detail=f"{what}, {when(visit.start)}",
        session=session,
        now=now,
    )
    session.refresh(request)
    request.status = VisitRequestStatus.SCHEDULED
    request.booking_id = visit.id
    session.add(request)
    notifications.tell_patient_of_decision(
        actor,
        session=session,
        patient_id=request.patient_id,
        kind=notifications.Kind.VISIT_BOOKED,
        text=f"Your visit request was booked: {what} on {when(visit.start)}.",
        link_page="appointments",
        category=CATEGORY,
        detail=f"visit request {request.id} booked as booking {visit.id}",
        now=now,
    )
    return visit
