"""Write-back to the EHR: what the clinic decides in the portal, as FHIR resources in the outbox.

Each change adds an OutboxItem in the caller's transaction, so the item exists exactly when the
change committed. The item carries the whole resource under an id the portal assigns; delivery
(``ehr_sync.delivery``) PUTs it there, so sending it twice leaves one resource on the EHR.
Every resource also carries an identifier in ``PORTAL_SYSTEM``: the sync skips resources that
came from the portal, or a booked visit would come back as a second, synced appointment.
Resources are built from ``fhir.resources`` R4B models, validated as they are built: one the EHR
would refuse raises ``WriteBackInvalid`` (plain words) before it reaches the outbox.
"""

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeGuard

from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.appointment import Appointment, AppointmentParticipant
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.communication import Communication, CommunicationPayload
from fhir.resources.R4B.dosage import Dosage
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.medicationrequest import MedicationRequest as MedicationRequestResource
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource
from pydantic import ValidationError
from sqlalchemy import update
from sqlmodel import Session, col

from db.models import (
    Booking,
    BookingStatus,
    MedicationRequest,
    Message,
    MessageThread,
    OutboxItem,
    OutboxStatus,
    Patient,
    Practitioner,
    RefillRequest,
    User,
)
from ehr_sync.fhir_values import codeable_concept
from portal.config import get_settings
from portal.errors import PortalError
from portal.services.rows import get_or_not_found

PORTAL_SYSTEM = "urn:clinic-portal:write-back"
# Fixed namespace for ids derived from a booking, so its cancellation PUTs the same Appointment.
_BOOKING_NAMESPACE = uuid.UUID("6f1e0c1e-3c52-4f44-9a55-2d1b7c0e5a10")


class Kind:
    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    REFILL_APPROVED = "refill_approved"
    MESSAGE = "message"


def enabled_for(patient: Patient | None) -> TypeGuard[Patient]:
    """Write-back is on when an EHR is configured and the patient came from that EHR."""
    settings = get_settings()
    return bool(
        settings.fhir_base_url
        and settings.fhir_write_back
        and patient is not None
        and patient.source == settings.fhir_source
    )


def is_from_portal(resource: dict[str, Any]) -> bool:
    """True for a resource the portal itself sent to the EHR."""
    return any(
        isinstance(i, dict) and i.get("system") == PORTAL_SYSTEM
        for i in resource.get("identifier") or []
    )


def enqueue(
    session: Session, *, kind: str, resource: Resource | dict[str, Any], now: datetime
) -> OutboxItem:
    """Add the resource to the outbox (the caller commits). Older unsent items for the same
    resource are superseded: each item is the resource's whole state, so only the newest counts.
    The portal's own changes arrive as models, validated when they were built."""
    if isinstance(resource, Resource):
        resource = resource.model_dump(mode="json")
    source = get_settings().fhir_source
    session.exec(
        update(OutboxItem)
        .where(
            col(OutboxItem.source) == source,
            OutboxItem.resource_type == resource["resourceType"],
            OutboxItem.fhir_id == resource["id"],
            col(OutboxItem.status).in_([OutboxStatus.PENDING, OutboxStatus.STUCK]),
        )
        .values(status=OutboxStatus.SUPERSEDED)
    )
    item = OutboxItem(
        source=source,
        kind=kind,
        resource_type=resource["resourceType"],
        fhir_id=resource["id"],
        payload=json.dumps(resource, separators=(",", ":")),
        status=OutboxStatus.PENDING,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(item)
    return item


# --- the changes the portal writes back -------------------------------------------------------


def booking_changed(session: Session, booking: Booking, *, now: datetime) -> OutboxItem | None:
    """An Appointment for a booking made, moved or cancelled (call after the booking flushed)."""
    patient = session.get(Patient, booking.patient_id)
    if not enabled_for(patient):
        return None
    practitioner = session.get(Practitioner, booking.practitioner_id)
    cancelled = booking.status == BookingStatus.CANCELLED
    resource = appointment_resource(booking, patient, practitioner)
    kind = Kind.APPOINTMENT_CANCELLED if cancelled else Kind.APPOINTMENT_BOOKED
    return enqueue(session, kind=kind, resource=resource, now=now)


def refill_approved(
    session: Session, refill: RefillRequest, actor: User, *, now: datetime
) -> OutboxItem | None:
    """A MedicationRequest with intent "proposal" renewing the patient's prescription."""
    patient = session.get(Patient, refill.patient_id)
    if not enabled_for(patient):
        return None
    med = get_or_not_found(session, MedicationRequest, refill.medication_request_id)
    prescriber = session.get(Practitioner, actor.practitioner_id) if actor.practitioner_id else None
    resource = refill_resource(refill, med, patient, prescriber, now=now)
    return enqueue(session, kind=Kind.REFILL_APPROVED, resource=resource, now=now)


def patient_message(
    session: Session, thread: MessageThread, message: Message, *, now: datetime
) -> OutboxItem | None:
    """A Communication from the patient (or their proxy) to the clinic."""
    patient = session.get(Patient, thread.patient_id)
    if not enabled_for(patient):
        return None
    resource = communication_resource(thread, message, patient, now=now)
    return enqueue(session, kind=Kind.MESSAGE, resource=resource, now=now)


# --- FHIR R4 resources ------------------------------------------------------------------------


class WriteBackInvalid(PortalError):
    """A resource for the EHR that FHIR would refuse: raised while building it, so nothing is
    queued (the caller's change rolls back with it) and nothing reaches the EHR."""

    def __init__(self, what: str, error: ValidationError):
        fields = sorted({".".join(str(part) for part in e["loc"]) for e in error.errors()})
        super().__init__(
            f"This could not be sent to the clinic's health record system: the {what} it "
            f"needs has a value the record system would refuse ({', '.join(fields)}). "
            "Nothing was changed or sent. Please tell the clinic's support."
        )
        self.fields = fields


@contextmanager
def _building(what: str) -> Iterator[None]:
    try:
        yield
    except ValidationError as error:
        raise WriteBackInvalid(what, error) from error


def booking_fhir_id(booking: Booking, patient: Patient) -> str:
    """The same id for every change of one booking, distinct across portals sharing an EHR."""
    created = booking.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"{patient.source}/{patient.fhir_id}/booking/{booking.id}/{created}"
    return str(uuid.uuid5(_BOOKING_NAMESPACE, name))


def _identifier(kind: str, local_id: int | None) -> list[Identifier]:
    return [Identifier(system=PORTAL_SYSTEM, value=f"{kind}/{local_id}")]


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _ref(resource_type: str, fhir_id: str | None) -> Reference:
    return Reference(reference=f"{resource_type}/{fhir_id}")


def appointment_resource(
    booking: Booking, patient: Patient, practitioner: Practitioner | None
) -> Appointment:
    from portal.services.scheduling.visit_types import MODE_LABELS, label

    cancelled = booking.status == BookingStatus.CANCELLED
    visit = label(booking.visit_type)
    with _building("appointment"):
        return Appointment(
            id=booking_fhir_id(booking, patient),
            identifier=_identifier("booking", booking.id),
            status="cancelled" if cancelled else "booked",
            serviceType=[CodeableConcept(text=visit)],
            description=f"{visit} ({MODE_LABELS.get(booking.mode, '')}), "
            "booked in the patient portal",
            start=_instant(booking.start),
            end=_instant(booking.end),
            created=_instant(booking.created_at),
            participant=_appointment_participants(patient, practitioner, cancelled=cancelled),
            cancelationReason=CodeableConcept(text=booking.cancel_reason or "cancelled")
            if cancelled
            else None,
        )


def _appointment_participants(
    patient: Patient, practitioner: Practitioner | None, *, cancelled: bool
) -> list[AppointmentParticipant]:
    participants = [
        AppointmentParticipant(
            actor=_ref("Patient", patient.fhir_id), status="declined" if cancelled else "accepted"
        )
    ]
    if practitioner is not None and practitioner.source == patient.source:
        participants.append(
            AppointmentParticipant(
                actor=_ref("Practitioner", practitioner.fhir_id), status="accepted"
            )
        )
    return participants


def refill_resource(
    refill: RefillRequest,
    med: MedicationRequest,
    patient: Patient,
    prescriber: Practitioner | None,
    *,
    now: datetime,
) -> MedicationRequestResource:
    same_ehr = med.source == patient.source
    requester = (
        _ref("Practitioner", prescriber.fhir_id)
        if prescriber is not None and prescriber.source == patient.source
        else None
    )
    # A renewal must name the drug: with neither code nor name the model refuses it.
    with _building("prescription renewal"):
        return MedicationRequestResource(
            id=str(uuid.uuid4()),
            identifier=_identifier("refill", refill.id),
            status="active",
            intent="proposal",
            medicationCodeableConcept=codeable_concept(med.code_system, med.code, med.display),
            subject=_ref("Patient", patient.fhir_id),
            authoredOn=_instant(now),
            note=[
                Annotation(
                    text=f"Refill approved in the patient portal. Pharmacy: {refill.pharmacy}"
                )
            ],
            priorPrescription=_ref("MedicationRequest", med.fhir_id) if same_ehr else None,
            dosageInstruction=[Dosage(text=med.dosage_text)] if med.dosage_text else None,
            requester=requester,
        )


def communication_resource(
    thread: MessageThread, message: Message, patient: Patient, *, now: datetime
) -> Communication:
    with _building("message"):
        sender = _ref("Patient", patient.fhir_id)
        return Communication(
            id=str(uuid.uuid4()),
            identifier=_identifier("message", message.id),
            status="completed",
            category=[
                CodeableConcept(
                    text=f"Patient portal message ({thread.recipient.replace('_', ' ')})"
                )
            ],
            subject=sender,
            topic=CodeableConcept(text=thread.subject) if thread.subject else None,
            sent=_instant(message.created_at or now),
            sender=sender,
            payload=[CommunicationPayload(contentString=message.body)],
        )
