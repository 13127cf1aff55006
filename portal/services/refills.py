"""Refill requests: patients ask for more of an active medication; clinicians approve or deny.

Any staff member may review a refill and route it (claim, assign, note a status change); only a
role holding ``Action.DECIDE_REFILLS`` (clinicians) approves, denies or closes one."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from db.models import (
    OPEN_REFILL_STATUSES,
    OPEN_TRIAGE_STATUSES,
    Encounter,
    MedicationRequest,
    Observation,
    Patient,
    RefillRequest,
    RefillStatus,
    TriageItem,
    TriageStatus,
    User,
    saved_id,
    saved_ids,
)
from portal.errors import InvalidInput, NotFound
from portal.permissions import Action
from portal.services import audited_reads, decisions, notifications, triage, writeback
from portal.services.access import require_patient_access
from portal.services.permissions import require_permission
from portal.services.rows import get_or_not_found

CATEGORY = "refills"
KIND = "refill"

STATUS_LABELS: dict[str, str] = {
    RefillStatus.REQUESTED: "Requested",
    RefillStatus.IN_REVIEW: "In review",
    RefillStatus.APPROVED: "Approved",
    RefillStatus.DENIED: "Denied",
}

# The labs a prescriber checks before renewing a drug, by LOINC code. Keyed on a lower-case word
# of the medication's name: a small, readable map is enough for a clinic's common renewals.
RELATED_LABS: dict[str, tuple[str, ...]] = {
    "metformin": ("4548-4", "2160-0"),  # HbA1c, creatinine
    "lisinopril": ("2823-3", "2160-0"),  # potassium, creatinine
    "losartan": ("2823-3", "2160-0"),
    "atorvastatin": ("13457-7", "2093-3"),  # LDL (calculated), total cholesterol
    "simvastatin": ("13457-7", "2093-3"),
    "levothyroxine": ("3016-3",),  # TSH
    "warfarin": ("6301-6",),  # INR
}


class DuplicateRefill(InvalidInput):
    """A refill for this medication is already open."""


class RefillAlreadyDecided(InvalidInput):
    """The refill was approved or denied already."""


def _in_review(*, session: Session, ref_id: int, status: str, now: datetime) -> None:
    # Claiming the inbox item is when a clinician starts looking: the patient sees "In review".
    refill = session.get(RefillRequest, ref_id)
    if refill and refill.status == RefillStatus.REQUESTED and status == TriageStatus.IN_PROGRESS:
        refill.status = RefillStatus.IN_REVIEW
        session.add(refill)


triage.register_kind(
    triage.KindSpec(
        kind=KIND,
        label="Refill",
        on_status_change=_in_review,
        work_page="refills",
        close_needs=Action.DECIDE_REFILLS,
    )
)


@dataclass
class MedicationRow:
    medication: MedicationRequest
    open_refill: RefillRequest | None


def active_medications(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> list[MedicationRow]:
    """Active medications, each with its open refill request (if any)."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    meds = session.exec(
        select(MedicationRequest)
        .where(MedicationRequest.patient_id == patient_id, MedicationRequest.status == "active")
        .order_by(MedicationRequest.display)
    ).all()
    open_refills = {
        r.medication_request_id: r
        for r in session.exec(
            select(RefillRequest).where(
                RefillRequest.patient_id == patient_id,
                col(RefillRequest.status).in_(OPEN_REFILL_STATUSES),
            )
        ).all()
    }
    audited_reads.log_read(
        actor, patient_id, session=session, category=CATEGORY, detail="active medications", now=now
    )
    return [MedicationRow(m, open_refills.get(saved_id(m))) for m in meds]


def request_refill(
    actor: User,
    patient_id: int,
    medication_request_id: int,
    *,
    pharmacy: str,
    note: str = "",
    session: Session,
    now: datetime,
) -> RefillRequest:
    """Ask for a refill of one of the patient's active medications; committed on return."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    med = session.get(MedicationRequest, medication_request_id)
    # The same message for "not yours" and "not active": ids of other patients' drugs stay opaque.
    if med is None or med.patient_id != patient_id or med.status != "active":
        raise NotFound("That medication is not on the active list, so it cannot be refilled.")
    pharmacy = " ".join((pharmacy or "").split())
    note = (note or "").strip()
    if not pharmacy:
        raise InvalidInput("Please tell us which pharmacy should receive the refill.")
    if len(pharmacy) > 200 or len(note) > 2000:
        raise InvalidInput(
            "Please keep the pharmacy under 200 and the note under 2,000 characters."
        )
    existing = session.exec(
        select(RefillRequest).where(
            RefillRequest.patient_id == patient_id,
            RefillRequest.medication_request_id == med.id,
            col(RefillRequest.status).in_(OPEN_REFILL_STATUSES),
        )
    ).first()
    if existing is not None:
        raise DuplicateRefill(
            f"You already have a refill request open for {med.display} "
            f"({STATUS_LABELS[existing.status].lower()}). We will let you know when it is decided."
        )
    refill = RefillRequest(
        patient_id=patient_id,
        medication_request_id=saved_id(med),
        pharmacy=pharmacy,
        note=note,
        requested_by_user_id=actor.id,
        created_at=now,
    )
    session.add(refill)
    session.flush()  # the audit detail names the refill's id
    triage.file_request(
        refill,
        kind=KIND,
        summary=f"Refill: {med.display}",
        actor=actor,
        audit_category=CATEGORY,
        audit_action="create",
        audit_detail=f"refill {refill.id}",
        session=session,
        now=now,
    )
    session.commit()
    return refill


@dataclass
class RefillRow:
    refill: RefillRequest
    medication: MedicationRequest

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.refill.status, self.refill.status)


def list_refills(
    actor: User, patient_id: int, *, session: Session, now: datetime
) -> list[RefillRow]:
    """The patient's refill requests, newest first."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    rows = session.exec(
        select(RefillRequest, MedicationRequest)
        .join(MedicationRequest, col(MedicationRequest.id) == RefillRequest.medication_request_id)
        .where(RefillRequest.patient_id == patient_id)
        .order_by(col(RefillRequest.created_at).desc(), col(RefillRequest.id).desc())
    ).all()
    audited_reads.log_read(
        actor, patient_id, session=session, category=CATEGORY, action="list", now=now
    )
    return [RefillRow(r, m) for r, m in rows]


def decide_refill(
    actor: User,
    item_id: int,
    seen_version: int,
    *,
    approve: bool,
    reason: str = "",
    session: Session,
    now: datetime,
) -> RefillRequest:
    """Approve or deny (a denial needs a reason, which the patient sees)."""
    require_permission(actor, Action.DECIDE_REFILLS, session=session, now=now)
    reason = decisions.checked_reason(
        reason,
        required=not approve,
        missing="Please give the reason for the denial; the patient will see it.",
    )
    _, refill = triage.request_of_item(session, item_id, KIND, RefillRequest, "refill request")
    if refill.status not in OPEN_REFILL_STATUSES:
        raise RefillAlreadyDecided("This refill was already decided.")
    decision = "approved" if approve else "denied"
    decisions.record_decision(
        actor,
        item_id,
        seen_version,
        refill,
        decision=decision,
        status=RefillStatus.APPROVED if approve else RefillStatus.DENIED,
        reason=reason,
        session=session,
        now=now,
    )
    if approve:  # to the EHR in this same transaction (the outbox delivers it later)
        writeback.refill_approved(session, refill, actor, now=now)
    med = get_or_not_found(
        session,
        MedicationRequest,
        refill.medication_request_id,
        "That medication is no longer there.",
    )
    notifications.tell_patient_of_decision(
        actor,
        session=session,
        patient_id=refill.patient_id,
        kind=notifications.Kind.REFILL_DECIDED,
        text=f"Your refill request for {med.display} was {decision}.",
        link_page="medications",
        category=CATEGORY,
        detail=f"refill {refill.id} {decision}",
        now=now,
    )
    return refill


@dataclass
class RefillContext:
    """What a clinician wants beside a refill decision."""

    item: TriageItem
    refill: RefillRequest
    medication: MedicationRequest
    patient: Patient
    last_visit: Encounter | None
    labs: list[Observation]


def related_lab_codes(medication_name: str) -> tuple[str, ...]:
    words = medication_name.lower().split()
    return next((codes for drug, codes in RELATED_LABS.items() if drug in words), ())


def refill_context(actor: User, item_id: int, *, session: Session, now: datetime) -> RefillContext:
    """The refill behind an inbox item, with the last visit and the latest related labs."""
    require_permission(actor, Action.REVIEW_REFILLS, session=session, now=now)
    item, refill = triage.request_of_item(session, item_id, KIND, RefillRequest, "refill request")
    session.refresh(item)
    session.refresh(refill)
    med = get_or_not_found(
        session,
        MedicationRequest,
        refill.medication_request_id,
        "That medication is no longer there.",
    )
    patient = get_or_not_found(session, Patient, refill.patient_id)
    last_visit = session.exec(
        select(Encounter)
        .where(Encounter.patient_id == patient.id, col(Encounter.start).is_not(None))
        .order_by(col(Encounter.start).desc())
        .limit(1)
    ).first()
    labs = []
    for code in related_lab_codes(med.display):
        latest = session.exec(
            select(Observation)
            .where(Observation.patient_id == patient.id, Observation.code == code)
            .order_by(col(Observation.effective_at).desc())
            .limit(1)
        ).first()
        if latest:
            labs.append(latest)
    audited_reads.log_read(
        actor,
        patient.id,
        session=session,
        category=CATEGORY,
        detail=f"refill {refill.id} context",
        now=now,
    )
    return RefillContext(item, refill, med, patient, last_visit, labs)


def open_refill_item_ids(actor: User, *, session: Session) -> list[int]:
    """Open refill items, due soonest first, for the refill queue."""
    require_permission(actor, Action.REVIEW_REFILLS, session=session, now=None)
    return saved_ids(
        session.exec(
            select(TriageItem.id)
            .where(TriageItem.kind == KIND, col(TriageItem.status).in_(OPEN_TRIAGE_STATUSES))
            .order_by(col(TriageItem.due_at), col(TriageItem.id))
        ).all()
    )
