"""Storing readings: one path for manual entry and every import, so each source gets the same
unit checks, the same duplicate detection and the same alert evaluation.

A reading's ``dedup_key`` hashes its measure, time (to the second) and canonical value(s); the
database keeps it unique per patient. Importing the same file twice therefore adds nothing, and
the report says how many readings were already there.
"""

import hashlib
import logging
import pickle  # noqa: S403 (only reads back the spool this process wrote a moment ago)
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select

from db.engine import begin_write
from db.models import PatientReading, ReadingSource, User, saved_id
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import audit
from portal.services.access import require_patient_access
from portal.services.audited_reads import log_read
from portal.services.permissions import require_permission
from portal.services.readings import alerts, units
from portal.text_hygiene import clean_line

CATEGORY = "readings"
VIEWED_READINGS = "viewed home readings"
BATCH_SIZE = 1000
# A device clock a few minutes fast is normal; a reading hours in the future is a wrong date.
FUTURE_SLACK = timedelta(minutes=10)
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
MAX_REFUSAL_EXAMPLES = 20
RECENT_KEYS = 50_000  # dedup keys remembered while reading a file (a few MB)
log = logging.getLogger(__name__)


class ImportRefused(InvalidInput):
    """The whole file is refused (a limit, a broken file, someone else's data): nothing stored."""

    def __init__(self, reason: str):
        super().__init__(f"Nothing was imported: {reason}")
        self.reason = reason
        self.audited = False


def clean_label(filename: str) -> str:
    """A file's name as the audit trail and the report show it: one line, no controls."""
    return clean_line(filename or "file")[:200]


class ImportBudget:
    """Counts records and time against an import's limits; a limit hit refuses the whole file.

    Parsers call ``count`` once per record they read (tracked or not), the writer calls
    ``check_time`` per batch, so neither a file of millions of rows nor a slow path can hold the
    server longer than the limit.
    """

    def __init__(
        self, *, max_records: int, max_seconds: float, clock: Callable[[], float] = time.monotonic
    ):
        self.max_records = max_records
        self.max_seconds = max_seconds
        self.clock = clock
        self.started = clock()
        self.records = 0

    def count(self) -> None:
        self.records += 1
        if self.records > self.max_records:
            raise ImportRefused(
                f"the file holds more than {self.max_records:,} records, the most one import "
                "takes. Please split it or export a shorter period."
            )
        if self.records % 256 == 0:
            self.check_time()

    def check_time(self) -> None:
        if self.clock() - self.started > self.max_seconds:
            raise ImportRefused(
                f"the file took longer than {self.max_seconds:.0f} seconds to read. Please split "
                "it or export a shorter period."
            )

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started


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
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # record types the portal does not track
    alerts_opened: int = 0
    added_by_measure: Counter[str] = field(default_factory=Counter)

    def refuse(self, where: str, reason: str) -> None:
        self.refused += 1
        self.reasons[reason] += 1
        if len(self.examples) < MAX_REFUSAL_EXAMPLES:
            self.examples.append(f"{where}: {reason}" if where else reason)

    @property
    def outcome(self) -> str:
        """How the result is shown: "success" only when everything read was added, "error" when
        nothing was added and nothing was already there, "warning" in between."""
        if self.added and not self.refused:
            return "success"
        if not self.added and not self.duplicates:
            return "error"
        return "warning"

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


def checked_values(item: ReadingInput, *, now: datetime) -> dict[str, Any]:
    """Check and convert one reading into the columns it is stored with (no ORM object: building
    one costs more than everything else an import does per row, so only stored rows get one).
    Raises InvalidInput with the reason it is refused."""
    m = units.measure(item.measure)
    unit = clean_line(item.unit or "").strip()  # a file's stray NUL is not part of the unit
    if item.taken_at.tzinfo is None:
        raise InvalidInput("The time has no time zone.")
    try:
        taken_at = item.taken_at.astimezone(UTC).replace(microsecond=0)
    except OverflowError:  # year 1 at +14:00 is before datetime's first day in UTC
        raise InvalidInput("The date is before 1900.") from None
    if taken_at > now + FUTURE_SLACK:
        raise InvalidInput("The date is in the future.")
    if taken_at < EARLIEST:
        raise InvalidInput("The date is before 1900.")
    value = units.to_canonical(m.code, float(item.value), unit)
    value2 = None
    if m.pair:
        if item.value2 is None:
            raise InvalidInput("A blood pressure needs both numbers.")
        value2 = units.to_canonical(m.code, float(item.value2), unit)
    units.check_plausible(m.code, value, value2)
    return {
        "measure": m.code,
        "value": value,
        "value2": value2,
        "unit": m.unit,
        "entered_value": float(item.value),
        "entered_value2": None if item.value2 is None else float(item.value2),
        "entered_unit": (unit or m.unit)[:64],
        "taken_at": taken_at,
        "dedup_key": dedup_key(m.code, taken_at, value, value2),
    }


def normalise(
    patient_id: int,
    item: ReadingInput,
    *,
    source: str,
    now: datetime,
    actor: User | None,
) -> PatientReading:
    """Check and convert one reading; raises InvalidInput with the reason it is refused."""
    return PatientReading(
        patient_id=patient_id,
        source=source,
        entered_by_user_id=actor.id if actor else None,
        created_at=now,
        **checked_values(item, now=now),
    )


class ReadingWriter:
    """Takes parsed readings in a stream and stores them in batches (bounded memory).

    Each batch is checked against the keys already stored (including earlier batches of this
    transaction), inserted and run through the alert rules; nothing is committed here, so the
    caller stores a whole file or none of it.
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
        self._batch: dict[str, dict[str, Any]] = {}  # dedup key -> checked values

    def add(self, item: ReadingInput | Refusal) -> None:
        reading = self.check(item)
        if reading is not None:
            self.add_checked(reading)

    def check(self, item: ReadingInput | Refusal) -> dict[str, Any] | None:
        """The reading's checked values, or None after counting it as refused."""
        if isinstance(item, Refusal):
            self.report.refuse(item.where, item.reason)
            return None
        try:
            return checked_values(item, now=self.now)
        except InvalidInput as error:
            self.report.refuse(item.where, error.user_message)
            return None

    def add_checked(self, values: dict[str, Any]) -> None:
        if values["dedup_key"] in self._batch:
            self.report.duplicates += 1
            return
        self._batch[values["dedup_key"]] = values
        if len(self._batch) >= self.batch_size:
            self.flush()

    def add_all(self, items: Iterable[ReadingInput | Refusal]) -> ImportReport:
        """Store every reading of ``items`` in the caller's transaction, then commit it."""
        for item in items:
            self.add(item)
        self.flush()
        self.session.commit()
        return self.report

    def flush(self) -> list[PatientReading]:
        if not self._batch:
            return []
        begin_write(self.session)  # else SQLite commits each savepoint below on its own
        keys = list(self._batch)
        existing = set(
            self.session.exec(
                select(PatientReading.dedup_key).where(
                    PatientReading.patient_id == self.patient_id,
                    col(PatientReading.dedup_key).in_(keys),
                )
            ).all()
        )
        new = [
            PatientReading(
                patient_id=self.patient_id,
                source=self.source,
                entered_by_user_id=self.actor.id if self.actor else None,
                created_at=self.now,
                **values,
            )
            for key, values in self._batch.items()
            if key not in existing
        ]
        self.report.duplicates += len(existing)
        self._batch = {}
        new = self._insert(new)
        self.report.added += len(new)
        self.report.added_by_measure.update(r.measure for r in new)
        self.report.alerts_opened += alerts.evaluate(
            self.patient_id, new, session=self.session, now=self.now, actor=self.actor
        )
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


def require_writer(actor: User, patient_id: int, *, session: Session, now: datetime) -> None:
    """Patients and caregivers for the records they may see; of staff, nurses and clinicians."""
    require_permission(actor, Action.ADD_READINGS, session=session, now=now, patient_id=patient_id)
    require_patient_access(actor, patient_id, session=session, category=CATEGORY, now=now)


_SPOOLED = (
    "measure",
    "value",
    "value2",
    "unit",
    "entered_value",
    "entered_value2",
    "entered_unit",
    "taken_at",
    "dedup_key",
)


class _Spool:
    """Checked readings parked in a temporary file between reading the file and storing it, so
    memory stays one batch deep however long the file is."""

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by the caller)
        self._pending: list[tuple[Any, ...]] = []

    def add(self, values: dict[str, Any]) -> None:
        self._pending.append(tuple(values[name] for name in _SPOOLED))
        if len(self._pending) >= self.batch_size:
            self._write()

    def _write(self) -> None:
        if self._pending:
            pickle.dump(self._pending, self.file, protocol=pickle.HIGHEST_PROTOCOL)
            self._pending = []

    def batches(self) -> Iterable[list[dict[str, Any]]]:
        self._write()
        self.file.seek(0)
        while True:
            try:
                rows = pickle.load(self.file)  # noqa: S301 (our own spool, see above)
            except EOFError:
                return
            yield [dict(zip(_SPOOLED, row, strict=True)) for row in rows]

    def close(self) -> None:
        self.file.close()


def import_readings(
    actor: User,
    patient_id: int,
    items: Iterable[ReadingInput | Refusal],
    *,
    session: Session,
    now: datetime,
    source: str,
    label: str,
    skipped: Counter[str] | None = None,
    budget: ImportBudget | None = None,
) -> ImportReport:
    """Store a parsed stream of readings for a patient, all or nothing; audited with its counts.

    First the whole stream is read and checked with no database write (a broken file or a limit
    hit raises ``ImportRefused`` before anything is stored); then every accepted reading is
    stored in one transaction, so a failure leaves nothing behind.
    """
    require_writer(actor, patient_id, session=session, now=now)
    writer = ReadingWriter(actor, patient_id, session=session, now=now, source=source)
    spool = _Spool(BATCH_SIZE)
    # Repeats within the file (a device writing each reading twice, or a file of one row
    # copied a million times) are counted here instead of being spooled and looked up.
    recent: dict[str, None] = {}
    try:
        for item in items:
            values = writer.check(item)
            if values is None:
                continue
            if values["dedup_key"] in recent:
                writer.report.duplicates += 1
                continue
            recent[values["dedup_key"]] = None
            if len(recent) > RECENT_KEYS:
                del recent[next(iter(recent))]
            spool.add(values)
        for batch in spool.batches():
            for values in batch:
                writer.add_checked(values)
            if budget is not None:
                budget.check_time()
        writer.flush()
    except ImportRefused as refused:
        session.rollback()
        audit_refused_import(
            label, refused.reason, actor=actor, patient_id=patient_id, session=session, now=now
        )
        refused.audited = True
        raise
    except SQLAlchemyError as error:
        session.rollback()
        log.warning("readings import failed and was rolled back: %s", type(error).__name__)
        reason = "the database could not store it. Please try again."
        audit_refused_import(
            label, reason, actor=actor, patient_id=patient_id, session=session, now=now
        )
        not_stored = ImportRefused(reason)
        not_stored.audited = True
        raise not_stored from None
    finally:
        spool.close()
    report = writer.report
    if skipped:
        report.skipped.update(skipped)
    _audit_change(
        actor, patient_id, "import", f"{label}: {report.summary}"[:1000], session=session, now=now
    )
    return report


def audit_refused_import(
    label: str, reason: str, *, actor: User, patient_id: int, session: Session, now: datetime
) -> None:
    """Audit a file refused whole (nothing stored), in its own commit."""
    detail = f"{label}: nothing stored: {reason}"[:1000]
    _audit_change(
        actor, patient_id, "import", detail, outcome=audit.Outcome.FAILURE, session=session, now=now
    )


def _audit_change(
    actor: User,
    patient_id: int,
    action: str,
    detail: str,
    *,
    outcome: str = audit.Outcome.SUCCESS,
    session: Session,
    now: datetime,
) -> None:
    """A change to a patient's readings (added, imported, corrected, deleted; or refused) in the
    audit trail, committed: with the change, or on its own for a refusal. Unchecked (private):
    the services that call it have checked the actor."""
    audit.record(
        session=session,
        actor=actor,
        category=CATEGORY,
        action=action,
        patient_id=patient_id,
        outcome=outcome,
        detail=detail,
        now=now,
    )
    session.commit()


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
    require_writer(actor, patient_id, session=session, now=now)
    values = checked_values(
        ReadingInput(measure=measure, value=value, value2=value2, unit=unit, taken_at=taken_at),
        now=now,
    )
    writer = ReadingWriter(actor, patient_id, session=session, now=now, source=ReadingSource.MANUAL)
    writer.add_checked(values)
    stored = writer.flush()
    added = units.MEASURES[values["measure"]].label + ("" if stored else " (already recorded)")
    _audit_change(actor, patient_id, "add", added, session=session, now=now)
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


SOURCE_LABELS: dict[str, str] = {
    ReadingSource.MANUAL: "Entered",
    ReadingSource.APPLE_HEALTH: "Apple Health",
    ReadingSource.CSV: "CSV file",
    ReadingSource.FHIR: "FHIR file",
}


def to_row(reading: PatientReading) -> ReadingRow:
    entered = units.format_value(reading.measure, reading.entered_value, reading.entered_value2)
    return ReadingRow(
        id=saved_id(reading),
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


def _readings_between(
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
    return list(
        session.exec(query.order_by(col(PatientReading.taken_at), col(PatientReading.id))).all()
    )
