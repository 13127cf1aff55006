"""Storing readings: one path for manual entry and every import, so each source gets the same
unit checks, the same duplicate detection and the same alert evaluation.

A reading's ``dedup_key`` hashes its measure, time (to the second) and canonical value(s); the
database keeps it unique per patient. Importing the same file twice therefore adds nothing, and
the report says how many readings were already there.
"""

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import PatientReading, ReadingSource, User
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import audit
from portal.services.access import require_patient_access
from portal.services.audited_reads import log_read
from portal.services.permissions import require_permission
from portal.services.readings import alerts, units

CATEGORY = "readings"
VIEWED_READINGS = "viewed home readings"
BATCH_SIZE = 1000
# A device clock a few minutes fast is normal; a reading hours in the future is a wrong date.
FUTURE_SLACK = timedelta(minutes=10)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MAX_REFUSAL_EXAMPLES = 20


@dataclass(frozen=True)
class ReadingInput:
    """One reading as a source gave it: value(s) in the unit it came in."""

    measure: str
    value: float
    unit: str
    taken_at: datetime
    value2: float | None = None
    where: str = ""  # 'line 12', 'record 40 (HKQuantityTypeIdentifierHeartRate)'


@dataclass(frozen=True)
class Refusal:
    """A record a parser could not read at all, with the plain reason."""

    where: str
    reason: str


@dataclass
class ImportReport:
    """What an import or entry did: added, already there, refused (with reasons)."""

    added: int = 0
    duplicates: int = 0
    refused: int = 0
    reasons: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)  # record types the portal does not track
    alerts_opened: int = 0
    added_by_measure: Counter = field(default_factory=Counter)

    def refuse(self, where: str, reason: str) -> None:
        self.refused += 1
        self.reasons[reason] += 1
        if len(self.examples) < MAX_REFUSAL_EXAMPLES:
            self.examples.append(f"{where}: {reason}" if where else reason)

    @property
    def summary(self) -> str:
        text = f"{self.added} added, {self.duplicates} already there, {self.refused} refused"
        if self.alerts_opened:
            text += f", {self.alerts_opened} alert(s) sent to the care team"
        return text


def dedup_key(measure: str, taken_at: datetime, value: float, value2: float | None) -> str:
    """Same measure, same second, same value (to 0.1 canonical unit): the same reading."""
    stamp = taken_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    second = "" if value2 is None else f"{value2:.1f}"
    raw = f"{measure}|{stamp}|{value:.1f}|{second}"
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise(
    patient_id: int,
    item: ReadingInput,
    *,
    source: str,
    now: datetime,
    actor: User | None,
) -> PatientReading:
    """Check and convert one reading; raises InvalidInput with the reason it is refused."""
    m = units.measure(item.measure)
    if item.taken_at.tzinfo is None:
        raise InvalidInput("The time has no time zone.")
    taken_at = item.taken_at.astimezone(UTC).replace(microsecond=0)
    if taken_at > now + FUTURE_SLACK:
        raise InvalidInput("The date is in the future.")
    if taken_at < EARLIEST:
        raise InvalidInput("The date is before 1900.")
    value = units.to_canonical(m.code, float(item.value), item.unit)
    value2 = None
    if m.pair:
        if item.value2 is None:
            raise InvalidInput("A blood pressure needs both numbers.")
        value2 = units.to_canonical(m.code, float(item.value2), item.unit)
    units.check_plausible(m.code, value, value2)
    return PatientReading(
        patient_id=patient_id,
        measure=m.code,
        value=value,
        value2=value2,
        unit=m.unit,
        entered_value=float(item.value),
        entered_value2=None if item.value2 is None else float(item.value2),
        entered_unit=(item.unit or m.unit)[:64],
        taken_at=taken_at,
        source=source,
        dedup_key=dedup_key(m.code, taken_at, value, value2),
        entered_by_user_id=actor.id if actor else None,
        created_at=now,
    )


class ReadingWriter:
    """Takes parsed readings in a stream and stores them in batches (bounded memory).

    Each batch is checked against the keys already stored, inserted, run through the alert
    rules and committed, so a huge import never holds more than one batch in memory and a
    repeat of an interrupted import simply skips what the first run stored.
    """

    def __init__(
        self,
        actor: User,
        patient_id: int,
        *,
        session: Session,
        now: datetime,
        source: str,
        batch_size: int = BATCH_SIZE,
    ):
        self.actor = actor
        self.patient_id = patient_id
        self.session = session
        self.now = now
        self.source = source
        self.batch_size = batch_size
        self.report = ImportReport()
        self._batch: dict[str, PatientReading] = {}

    def add(self, item: ReadingInput | Refusal) -> None:
        if isinstance(item, Refusal):
            self.report.refuse(item.where, item.reason)
            return
        try:
            reading = normalise(
                self.patient_id, item, source=self.source, now=self.now, actor=self.actor
            )
        except InvalidInput as error:
            self.report.refuse(item.where, error.user_message)
            return
        if reading.dedup_key in self._batch:
            self.report.duplicates += 1
            return
        self._batch[reading.dedup_key] = reading
        if len(self._batch) >= self.batch_size:
            self.flush()

    def add_all(self, items: Iterable[ReadingInput | Refusal]) -> ImportReport:
        for item in items:
            self.add(item)
        self.flush()
        return self.report

    def flush(self) -> list[PatientReading]:
        if not self._batch:
            return []
        keys = list(self._batch)
        existing = set(
            self.session.exec(
                select(PatientReading.dedup_key).where(
                    PatientReading.patient_id == self.patient_id,
                    col(PatientReading.dedup_key).in_(keys),
                )
            ).all()
        )
        new = [r for k, r in self._batch.items() if k not in existing]
        self.report.duplicates += len(existing)
        self._batch = {}
        new = self._insert(new)
        self.report.added += len(new)
        self.report.added_by_measure.update(r.measure for r in new)
        self.report.alerts_opened += alerts.evaluate(
            self.patient_id, new, session=self.session, now=self.now, actor=self.actor
        )
        self.session.commit()
        return new

    def _insert(self, readings: list[PatientReading]) -> list[PatientReading]:
        """Insert the batch; if another import stored some of it meanwhile (the unique key
        refuses them), insert one by one and count those as already there."""
        try:
            with self.session.begin_nested():
                self.session.add_all(readings)
                self.session.flush()
            return readings
        except IntegrityError:
            pass
        stored = []
        for reading in readings:
            try:
                with self.session.begin_nested():
                    self.session.add(reading)
                    self.session.flush()
                stored.append(reading)
            except IntegrityError:
                self.report.duplicates += 1
        return stored


def _require_writer(actor: User, patient_id: int, *, session: Session, now: datetime) -> None:
    """Patients and caregivers for the records they may see; of staff, nurses and clinicians."""
    require_permission(actor, Action.ADD_READINGS, session=session, now=now, patient_id=patient_id)
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)


def import_readings(
    actor: User,
    patient_id: int,
    items: Iterable[ReadingInput | Refusal],
    *,
    session: Session,
    now: datetime,
    source: str,
    label: str,
    skipped: Counter | None = None,
) -> ImportReport:
    """Store a parsed stream of readings for a patient; audited with its counts."""
    _require_writer(actor, patient_id, session=session, now=now)
    writer = ReadingWriter(actor, patient_id, session=session, now=now, source=source)
    report = writer.add_all(items)
    if skipped:
        report.skipped.update(skipped)
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="import",
        patient_id=patient_id,
        detail=f"{label}: {report.summary}"[:2000],
        now=now,
    )
    session.commit()
    return report


@dataclass(frozen=True)
class AddResult:
    reading: PatientReading | None  # None when it was already stored
    duplicate: bool
    alert_opened: bool


def add_reading(
    actor: User,
    patient_id: int,
    *,
    session: Session,
    now: datetime,
    measure: str,
    value: float,
    unit: str,
    taken_at: datetime,
    value2: float | None = None,
) -> AddResult:
    """Manual entry of one reading: refused with a plain reason, or stored (once)."""
    _require_writer(actor, patient_id, session=session, now=now)
    reading = normalise(
        patient_id,
        ReadingInput(measure=measure, value=value, value2=value2, unit=unit, taken_at=taken_at),
        source=ReadingSource.MANUAL,
        now=now,
        actor=actor,
    )
    writer = ReadingWriter(actor, patient_id, session=session, now=now, source="manual")
    writer._batch[reading.dedup_key] = reading
    stored = writer.flush()
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action="add",
        patient_id=patient_id,
        detail=f"{units.MEASURES[reading.measure].label}"
        + ("" if stored else " (already recorded)"),
        now=now,
    )
    session.commit()
    return AddResult(
        reading=stored[0] if stored else None,
        duplicate=not stored,
        alert_opened=writer.report.alerts_opened > 0,
    )


@dataclass(frozen=True)
class ReadingRow:
    id: int
    measure: str
    label: str
    value: float
    value2: float | None
    text: str  # '120/80 mmHg'
    entered: str  # what the patient typed or the device sent: '165 lb'
    taken_at: datetime
    source: str


SOURCE_LABELS = {
    ReadingSource.MANUAL: "Entered",
    ReadingSource.APPLE_HEALTH: "Apple Health",
    ReadingSource.CSV: "CSV file",
    ReadingSource.FHIR: "FHIR file",
}


def to_row(reading: PatientReading) -> ReadingRow:
    entered = units.format_value(reading.measure, reading.entered_value, reading.entered_value2)
    return ReadingRow(
        id=reading.id,
        measure=reading.measure,
        label=units.MEASURES[reading.measure].label,
        value=reading.value,
        value2=reading.value2,
        text=units.display(reading.measure, reading.value, reading.value2),
        entered=f"{entered} {reading.entered_unit}",
        taken_at=reading.taken_at,
        source=SOURCE_LABELS.get(reading.source, reading.source),
    )


def recent_readings(
    actor: User,
    patient_id: int,
    *,
    session: Session,
    now: datetime,
    measure: str | None = None,
    days: int = 90,
    limit: int = 500,
) -> list[ReadingRow]:
    """The patient's readings of the last ``days`` days, newest first; the read is audited."""
    require_patient_access(actor, patient_id, session=session, category=VIEWED_READINGS, now=now)
    query = (
        select(PatientReading)
        .where(
            PatientReading.patient_id == patient_id,
            PatientReading.taken_at >= now - timedelta(days=days),
        )
        .order_by(col(PatientReading.taken_at).desc(), col(PatientReading.id).desc())
        .limit(limit)
    )
    if measure:
        query = query.where(PatientReading.measure == measure)
    rows = [to_row(r) for r in session.exec(query).all()]
    log_read(actor, patient_id, session=session, category=VIEWED_READINGS, now=now)
    return rows


def readings_between(
    patient_id: int,
    measures: tuple[str, ...],
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[PatientReading]:
    """Readings oldest first, for charts; the caller has checked access and audits the read."""
    query = select(PatientReading).where(
        PatientReading.patient_id == patient_id, col(PatientReading.measure).in_(measures)
    )
    if since is not None:
        query = query.where(PatientReading.taken_at >= since)
    if until is not None:
        query = query.where(PatientReading.taken_at <= until)
    return list(session.exec(query.order_by(PatientReading.taken_at, PatientReading.id)).all())
