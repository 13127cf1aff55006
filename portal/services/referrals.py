"""Referrals: those the EHR holds (FHIR ServiceRequest, synced) and those a patient asks for,
which go to the staff triage inbox."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from db.models import (
    Practitioner,
    ReferralRequest,
    ReferralRequestStatus,
    ServiceRequest,
    TriageStatus,
    User,
    saved_id,
)
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import decisions, notifications, triage
from portal.services.access import require_patient_access
from portal.services.audited_reads import log_read
from portal.services.permissions import require_permission

KIND = "referral_request"
CATEGORY = "referrals"
VIEWED_REFERRALS = "viewed referrals"
# What the patient may pick; "Other" lets them name it in the reason.
SPECIALTIES = (
    "Allergy and immunology",
    "Cardiology",
    "Dermatology",
    "Endocrinology",
    "Gastroenterology",
    "Neurology",
    "Obstetrics and gynecology",
    "Ophthalmology",
    "Orthopedics",
    "Physical therapy",
    "Psychiatry / behavioral health",
    "Pulmonology",
    "Urology",
    "Other",
)
_HIDDEN = ("entered-in-error",)
# FHIR ServiceRequest status -> words a patient reads.
STATUS_LABELS: dict[str, str] = {
    "draft": "Being prepared",
    "active": "Sent",
    "on-hold": "On hold",
    "revoked": "Cancelled",
    "completed": "Completed",
    "unknown": "Unknown",
}


def _on_status_change(*, session: Session, ref_id: int, status: str, now: datetime) -> None:
    # Closing the inbox item closes the request, so the patient sees it was handled.
    request = session.get(ReferralRequest, ref_id)
    if request and status == TriageStatus.CLOSED and request.status == ReferralRequestStatus.OPEN:
        request.status = ReferralRequestStatus.CLOSED
        session.add(request)


triage.register_kind(
    triage.KindSpec(kind=KIND, label="Referral request", on_status_change=_on_status_change)
)


@dataclass(frozen=True)
class Referral:
    """A referral from the EHR, as the patient reads it."""

    referral_id: int
    specialty: str
    what: str
    to: str
    status: str
    reason: str
    requested_on: datetime | None
    appointment: datetime | None
    requested_by: str


@dataclass(frozen=True)
class ReferralAsk:
    """A referral the patient asked for in the portal."""

    request_id: int
    specialty: str
    reason: str
    preferred_provider: str
    status: str  # open / closed / approved / declined
    created_at: datetime
    decision_reason: str = ""

    @property
    def status_words(self) -> str:
        return REQUEST_STATUS_WORDS.get(self.status, self.status.capitalize())


@dataclass(frozen=True)
class ReferralOverview:
    referrals: list[Referral]  # newest first
    requests: list[ReferralAsk]  # newest first


REQUEST_STATUS_WORDS: dict[str, str] = {
    ReferralRequestStatus.OPEN: "Waiting for the clinic",
    ReferralRequestStatus.CLOSED: "Handled",
    ReferralRequestStatus.APPROVED: "Approved",
    ReferralRequestStatus.DECLINED: "Declined",
}


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status.replace("-", " ").capitalize())


def list_referrals(
    user: User, patient_id: int, *, session: Session, now: datetime
) -> ReferralOverview:
    """Synced referrals and the patient's own requests (one audited read)."""
    require_patient_access(user, patient_id, session=session, category=VIEWED_REFERRALS, now=now)
    rows = session.exec(
        select(ServiceRequest, Practitioner.name)
        .outerjoin(Practitioner, col(ServiceRequest.requester_id) == Practitioner.id)
        .where(ServiceRequest.patient_id == patient_id, col(ServiceRequest.status).not_in(_HIDDEN))
        .order_by(
            col(ServiceRequest.authored_on).desc().nulls_last(), col(ServiceRequest.id).desc()
        )
    ).all()
    referrals = [
        Referral(
            referral_id=saved_id(r),
            specialty=r.specialty or r.display or "Referral",
            what=r.display,
            to=r.performer_name,
            status=status_label(r.status),
            reason=r.reason or "",
            requested_on=r.authored_on,
            appointment=r.occurrence,
            requested_by=name or "",
        )
        for r, name in rows
    ]
    asks = session.exec(
        select(ReferralRequest)
        .where(ReferralRequest.patient_id == patient_id)
        .order_by(col(ReferralRequest.created_at).desc(), col(ReferralRequest.id).desc())
    ).all()
    overview = ReferralOverview(
        referrals=referrals,
        requests=[
            ReferralAsk(
                request_id=saved_id(a),
                specialty=a.specialty,
                reason=a.reason,
                preferred_provider=a.preferred_provider,
                status=a.status,
                created_at=a.created_at,
                decision_reason=a.decision_reason or "",
            )
            for a in asks
        ],
    )
    log_read(user, patient_id, session=session, category=VIEWED_REFERRALS, now=now)
    return overview


def request_referral(
    actor: User,
    *,
    session: Session,
    now: datetime,
    patient_id: int,
    specialty: str,
    reason: str,
    preferred_provider: str = "",
) -> ReferralRequest:
    """Store the request and put it in the staff inbox in one transaction."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    if specialty not in SPECIALTIES:
        raise InvalidInput("Please choose a specialty.")
    reason, preferred_provider = reason.strip(), preferred_provider.strip()
    if not reason:
        raise InvalidInput("Please tell us why you need the referral.")
    if len(reason) > 2000 or len(preferred_provider) > 200:
        raise InvalidInput("Please shorten your note.")
    request = ReferralRequest(
        patient_id=patient_id,
        specialty=specialty,
        reason=reason,
        preferred_provider=preferred_provider,
        requested_by_user_id=actor.id,
        created_at=now,
    )
    triage.file_request(
        request,
        kind=KIND,
        summary=f"Referral request: {specialty}: {reason[:150]}",
        actor=actor,
        audit_category=CATEGORY,
        audit_action="referral_request",
        session=session,
        now=now,
    )
    session.commit()
    return request


# --- the staff side ---------------------------------------------------------------------------


def request_for_item(
    actor: User, item_id: int, *, session: Session, now: datetime
) -> ReferralRequest:
    """The referral request behind an inbox item (staff only; the read is audited)."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    _, request = triage.request_of_item(session, item_id, KIND, ReferralRequest, "referral request")
    session.refresh(request)
    log_read(
        actor,
        request.patient_id,
        session=session,
        category=CATEGORY,
        detail=f"referral request {request.id}",
        now=now,
    )
    return request


def decide_referral(
    actor: User,
    item_id: int,
    seen_version: int,
    *,
    approve: bool,
    reason: str = "",
    session: Session,
    now: datetime,
) -> ReferralRequest:
    """Record the clinic's decision on a referral request (a decline needs a reason, which the
    patient reads), close the inbox item and tell the patient, in one transaction."""
    require_permission(actor, Action.WORK_TRIAGE, session=session, now=now)
    reason = decisions.checked_reason(
        reason,
        required=not approve,
        missing="Please give the reason for declining; the patient will see it.",
    )
    _, request = triage.request_of_item(session, item_id, KIND, ReferralRequest, "referral request")
    if request.status != ReferralRequestStatus.OPEN:
        raise InvalidInput("This referral request was already decided.")
    decision = "approved" if approve else "declined"
    decisions.record_decision(
        actor,
        item_id,
        seen_version,
        request,
        decision=decision,
        status=ReferralRequestStatus.APPROVED if approve else ReferralRequestStatus.DECLINED,
        reason=reason,
        session=session,
        now=now,
    )
    text = f"Your referral request ({request.specialty}) was {decision}."
    if reason:
        text += f" {reason}"
    notifications.tell_patient_of_decision(
        actor,
        session=session,
        patient_id=request.patient_id,
        kind=notifications.Kind.REFERRAL_DECIDED,
        text=text,
        link_page="referrals",
        category=CATEGORY,
        detail=f"referral request {request.id} {decision}",
        now=now,
    )
    return request
