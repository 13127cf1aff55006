"""Patients and caregivers delete or correct home readings they entered (a slip on the keypad, a
device that logged someone else). Audited with the value before and after.

Only readings a patient or caregiver entered can be changed here: nothing staff entered, and none
the care team was alerted about (the alert and its triage item point at the reading; to fix one
of those the patient messages the care team).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, or_, select

from db.engine import begin_write
from db.models import (
    PatientReading,
    ProxyGrant,
    ReadingAlertEpisode,
    ReadingSource,
    User,
    saved_ids,
)
from portal.errors import InvalidInput, NotAllowed, NotFound
from portal.services import audit
from portal.services.readings import units
from portal.services.readings.entry import (
    ReadingInput,
    ReadingWriter,
    _audit_change,
    checked_values,
    require_writer,
)


def _side(patient_id: int) -> ColumnElement[bool]:
    """A User is on the patient's side: the patient's own account or a caregiver granted the
    record (a revoked caregiver still entered what they entered)."""
    granted = select(ProxyGrant.id).where(
        ProxyGrant.user_id == User.id, ProxyGrant.patient_id == patient_id
    )
    return or_(User.patient_id == patient_id, granted.exists())


@dataclass(frozen=True)
class EditResult:
    text: str  # what the reading is now, e.g. "120/80 mmHg"; "" after a delete
    alert_opened: bool = False


def editable_ids(
    actor: User, patient_id: int, ids: list[int], *, session: Session, now: datetime
) -> set[int]:
    """Which of ``ids`` (readings of ``patient_id``) ``actor`` may delete or correct; one query.
    Ids only, for the audited list of recent readings they were shown."""
    require_writer(actor, patient_id, session=session, now=now)
    if (
        not ids
        or not session.exec(select(User.id).where(User.id == actor.id, _side(patient_id))).first()
    ):
        return set()
    alerted = select(ReadingAlertEpisode.id).where(
        or_(
            ReadingAlertEpisode.first_reading_id == PatientReading.id,
            ReadingAlertEpisode.last_out_reading_id == PatientReading.id,
        )
    )
    rows = session.exec(
        select(PatientReading.id)
        .join(User, col(User.id) == PatientReading.entered_by_user_id)
        .where(
            PatientReading.patient_id == patient_id,
            col(PatientReading.id).in_(ids),
            _side(patient_id),
            ~alerted.exists(),
        )
    ).all()
    return set(saved_ids(rows))


def _own_reading(
    actor: User, patient_id: int, reading_id: int, *, session: Session, now: datetime
) -> PatientReading:
    require_writer(actor, patient_id, session=session, now=now)
    reading = session.get(PatientReading, reading_id) if reading_id is not None else None
    if reading is None or reading.patient_id != patient_id:
        raise NotFound("That reading is not in this record.")
    if reading_id not in editable_ids(actor, patient_id, [reading_id], session=session, now=now):
        refused = f"reading {reading_id}: not editable by this account"
        _audit_change(
            actor,
            patient_id,
            "edit",
            refused,
            outcome=audit.Outcome.FAILURE,
            session=session,
            now=now,
        )
        raise NotAllowed(
            "Only readings you or your caregiver entered can be changed here, and not one the "
            "care team was alerted about. Please message the care team if it is wrong."
        )
    return reading


def _describe(reading: PatientReading) -> str:
    label = units.MEASURES[reading.measure].label
    return f"{label} {units.display(reading.measure, reading.value, reading.value2)}"


def delete_reading(
    actor: User, patient_id: int, reading_id: int, *, session: Session, now: datetime
) -> EditResult:
    reading = _own_reading(actor, patient_id, reading_id, session=session, now=now)
    before = _describe(reading)
    begin_write(session)
    session.delete(reading)
    deleted = f"reading {reading_id}: {before} taken {reading.taken_at.isoformat()}"
    _audit_change(actor, patient_id, "delete", deleted, session=session, now=now)
    return EditResult(text="")


def correct_reading(
    actor: User,
    patient_id: int,
    reading_id: int,
    *,
    value: float,
    value2: float | None,
    unit: str,
    taken_at: datetime,
    session: Session,
    now: datetime,
) -> EditResult:
    """Replace the reading's numbers (and time) with what the patient says they were.

    The corrected reading goes through the same checks and alert rules as a new one."""
    reading = _own_reading(actor, patient_id, reading_id, session=session, now=now)
    values = checked_values(
        ReadingInput(
            measure=reading.measure, value=value, value2=value2, unit=unit, taken_at=taken_at
        ),
        now=now,
    )
    if values["dedup_key"] == reading.dedup_key:
        raise InvalidInput("That is what the reading already says; nothing was changed.")
    before = _describe(reading)
    begin_write(session)
    session.delete(reading)
    session.flush()
    writer = ReadingWriter(actor, patient_id, session=session, now=now, source=ReadingSource.MANUAL)
    writer.add_checked(values)
    stored = writer.flush()
    after = units.display(values["measure"], values["value"], values["value2"])
    merged = "" if stored else " (same as another reading: merged)"
    _audit_change(
        actor,
        patient_id,
        "correct",
        f"reading {reading_id}: {before} -> {after}{merged}",
        session=session,
        now=now,
    )
    return EditResult(text=after, alert_opened=writer.report.alerts_opened > 0)
