"""Visit requests: when no slot suits, the patient asks and staff book it from the triage inbox."""

from datetime import datetime

from sqlmodel import Session, select

from db.models import TriageStatus, User, VisitRequest, VisitRequestStatus
from portal.errors import InvalidInput
from portal.services import triage
from portal.services.access import require_patient_access
from portal.services.audited_reads import log_read
from portal.services.scheduling.visit_types import VISIT_TYPES, label

KIND = "visit_request"
CATEGORY = "appointments"


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


def request_visit(
    actor: User,
    *,
    session: Session,
    now: datetime,
    patient_id: int,
    visit_type: str,
    practitioner_id: int | None = None,
    mode: str | None = None,
    preferred_times: str = "",
    reason: str = "",
) -> VisitRequest:
    """Store the request and put it in the staff inbox in one transaction."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    if visit_type not in VISIT_TYPES:
        raise InvalidInput("Please choose a visit type.")
    if len(preferred_times) > 500 or len(reason) > 2000:
        raise InvalidInput("Please shorten your note.")
    request = VisitRequest(
        patient_id=patient_id,
        practitioner_id=practitioner_id,
        visit_type=visit_type,
        mode=mode,
        preferred_times=preferred_times.strip(),
        reason=reason.strip(),
        requested_by_user_id=actor.id,
        created_at=now,
    )
    triage.file_request(
        request,
        kind=KIND,
        summary=f"Visit request: {label(visit_type)}",
        actor=actor,
        audit_category=CATEGORY,
        audit_action="visit_request",
        session=session,
        now=now,
    )
    session.commit()
    return request


def open_requests(actor: User, patient_id: int, *, session: Session, now: datetime):
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    requests = list(
        session.exec(
            select(VisitRequest)
            .where(VisitRequest.patient_id == patient_id)
            .order_by(VisitRequest.created_at.desc())
        ).all()
    )
    log_read(actor, patient_id, session=session, category="viewed visit requests", now=now)
    return requests
