"""Profile changes: the patient proposes, staff accept (applied) or reject (with a reason)."""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from db.models import (
    Patient,
    PatientPreferences,
    ProfileChangeRequest,
    ProfileChangeStatus,
    TriageItem,
    User,
)
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import audit, audited_reads, decisions, mfa, notifications, triage
from portal.services.access import require_patient_access
from portal.services.permissions import require_permission
from portal.services.rows import get_or_not_found
from portal.text_hygiene import clean_line, clean_text

CATEGORY = "profile"
KIND = "profile_change"

triage.register_kind(triage.KindSpec(kind=KIND, label="Profile change"))

COMMUNICATION_CHOICES = ("Portal message", "Email", "Phone call", "Text message", "Letter")


@dataclass(frozen=True)
class ProfileField:
    label: str
    # Where an accepted change is written: the EHR's Patient row or the portal's preferences.
    table: type
    max_length: int


FIELDS: dict[str, ProfileField] = {
    "phone": ProfileField("Phone", Patient, 64),
    "email": ProfileField("Email", Patient, 200),
    "address": ProfileField("Address", Patient, 500),
    "preferred_pharmacy": ProfileField("Preferred pharmacy", PatientPreferences, 200),
    "communication_preference": ProfileField("Communication preference", PatientPreferences, 64),
    "emergency_contact": ProfileField("Emergency contact", PatientPreferences, 500),
}

# Changing these asks for the current password or a code (mfa.confirm_identity).
CONFIRMED_FIELDS = frozenset({"phone", "email"})

_PHONE = re.compile(r"^[0-9+()\-. ]{7,32}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class PendingChangeExists(InvalidInput):
    """A change to this field is already waiting for staff."""


def _validate(field: str, value: str) -> str:
    spec = FIELDS.get(field)
    if spec is None:
        raise InvalidInput("That detail cannot be changed here.")
    value = " ".join(clean_line(value or "").split())
    if not value:
        raise InvalidInput(f"Please enter your new {spec.label.lower()}.")
    if len(value) > spec.max_length:
        raise InvalidInput(f"{spec.label} can be at most {spec.max_length} characters.")
    if field == "phone" and not _PHONE.match(value):
        raise InvalidInput("Please enter a phone number using digits (and + ( ) - if needed).")
    if field == "email" and not _EMAIL.match(value):
        raise InvalidInput("Please enter an email address like name@example.com.")
    if field == "communication_preference" and value not in COMMUNICATION_CHOICES:
        raise InvalidInput("Please pick a communication preference from the list.")
    return value


def _current_values(patient_id: int, *, session: Session) -> dict[str, str | None]:
    patient = session.get(Patient, patient_id)
    prefs = session.get(PatientPreferences, patient_id)
    values = {}
    for name, spec in FIELDS.items():
        row = patient if spec.table is Patient else prefs
        values[name] = getattr(row, name) if row is not None else None
    return values


@dataclass
class ProfileView:
    values: dict[str, str | None]
    pending: dict[str, ProfileChangeRequest]
    recent: list[ProfileChangeRequest]


def profile(actor: User, patient_id: int, *, session: Session, now: datetime) -> ProfileView:
    """Current contact details, the pending changes, and recent decisions."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    changes = session.exec(
        select(ProfileChangeRequest)
        .where(ProfileChangeRequest.patient_id == patient_id)
        .order_by(col(ProfileChangeRequest.created_at).desc(), col(ProfileChangeRequest.id).desc())
        .limit(50)
    ).all()
    pending = {c.field: c for c in changes if c.status == ProfileChangeStatus.PENDING}
    audited_reads.log_read(actor, patient_id, session=session, category=CATEGORY, now=now)
    return ProfileView(_current_values(patient_id, session=session), pending, list(changes))


def request_changes(
    actor: User,
    patient_id: int,
    changes: dict[str, str],
    *,
    session: Session,
    now: datetime,
    proof: str | None = None,
) -> list[ProfileChangeRequest]:
    """Propose new values (only those that differ); each goes to the inbox. Committed on return.

    A new phone or email (where the clinic reaches the patient, and where a reset would go) also
    needs ``proof``: the acting account's current password or a current code."""
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)
    current = _current_values(patient_id, session=session)
    cleaned = {}
    for field, value in changes.items():
        if value is None or (value.strip() == "" and not current.get(field)):
            continue
        value = _validate(field, value)
        if value != (current.get(field) or ""):
            cleaned[field] = value
    if not cleaned:
        raise InvalidInput("Nothing has changed: please edit a detail before sending.")
    if cleaned.keys() & CONFIRMED_FIELDS:
        mfa.confirm_identity(actor, proof, session=session, now=now, what="new phone or email")
    pending = session.exec(
        select(ProfileChangeRequest.field).where(
            ProfileChangeRequest.patient_id == patient_id,
            ProfileChangeRequest.status == ProfileChangeStatus.PENDING,
            col(ProfileChangeRequest.field).in_(list(cleaned)),
        )
    ).all()
    if pending:
        labels = ", ".join(FIELDS[f].label.lower() for f in pending)
        raise PendingChangeExists(
            f"A change to your {labels} is already waiting for the clinic. "
            "You can send another once it has been decided."
        )
    created = []
    for field, value in cleaned.items():
        change = ProfileChangeRequest(
            patient_id=patient_id,
            field=field,
            old_value=current.get(field),
            new_value=value,
            requested_by_user_id=actor.id,
            created_at=now,
        )
        summary = f"Profile: {FIELDS[field].label.lower()}"
        triage.enter_request(
            change, kind=KIND, summary=summary, actor=actor, session=session, now=now
        )
        created.append(change)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="create",
        patient_id=patient_id,
        detail="change requested: " + ", ".join(cleaned),
        now=now,
    )
    session.commit()
    return created


def change_for_item(
    actor: User, item_id: int, *, session: Session
) -> tuple[TriageItem, ProfileChangeRequest]:
    require_permission(actor, Action.DECIDE_PROFILE_CHANGES, session=session, now=None)
    item = triage.item_of_kind(session, item_id, KIND, "a profile change")
    change = get_or_not_found(session, ProfileChangeRequest, item.ref_id)
    session.refresh(change)
    return item, change


def decide_change(
    actor: User,
    item_id: int,
    seen_version: int,
    *,
    accept: bool,
    reason: str = "",
    session: Session,
    now: datetime,
) -> ProfileChangeRequest:
    """Accept (write the new value) or reject (with a reason the patient sees)."""
    reason = clean_text(reason or "").strip()
    if not accept and not reason:
        raise InvalidInput("Please give the reason for rejecting the change; the patient sees it.")
    item, change = change_for_item(actor, item_id, session=session)
    if change.status != ProfileChangeStatus.PENDING:
        raise InvalidInput("This change was already decided.")
    decision = "accepted" if accept else "rejected"
    decisions.record_decision(
        actor,
        item_id,
        seen_version,
        change,
        decision=decision,
        status=ProfileChangeStatus.ACCEPTED if accept else ProfileChangeStatus.REJECTED,
        reason=reason,
        session=session,
        now=now,
    )
    if accept:
        _apply(change, session=session, now=now)
    notifications.tell_patient_of_decision(
        actor,
        session=session,
        patient_id=change.patient_id,
        kind=notifications.Kind.PROFILE_DECIDED,
        text=f"Your change to your {FIELDS[change.field].label.lower()} was {decision}.",
        link_page="profile",
        category=CATEGORY,
        detail=f"profile change {change.id} {decision}",
        now=now,
    )
    return change


def _apply(change: ProfileChangeRequest, *, session: Session, now: datetime) -> None:
    spec = FIELDS[change.field]
    row: Patient | PatientPreferences
    if spec.table is Patient:
        row = get_or_not_found(session, Patient, change.patient_id)
    else:
        row = session.get(PatientPreferences, change.patient_id) or PatientPreferences(
            patient_id=change.patient_id
        )
        row.updated_at = now
    setattr(row, change.field, change.new_value)
    session.add(row)
