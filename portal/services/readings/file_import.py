"""One entry point for importing a file of readings: limits per kind of file, then all or nothing.

The page hands over the upload; this picks the parser, applies the limits from ``Settings``
(bytes, records, nesting depth, decompressed size, wall time) and stores the file through
``entry.import_readings``, which stores every accepted reading or none. Whatever goes wrong, the
caller gets a ``PortalError`` with a plain reason, never a stack trace after a partial write.
"""

import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlmodel import Session

from db.models import Patient, User
from portal.config import Settings, get_settings
from portal.services.readings import apple_health, csv_import, entry, fhir_import
from portal.services.readings.csv_import import ColumnMapping
from portal.services.readings.entry import (
    ImportBudget,
    ImportRefused,
    ImportReport,
    ReadingInput,
    Refusal,
)

APPLE_HEALTH = "apple_health"
CSV = "csv"
FHIR = "fhir"
KINDS = (APPLE_HEALTH, CSV, FHIR)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportLimits:
    """What one import of a kind may take; 0 means the kind has no such limit."""

    max_bytes: int
    max_records: int
    max_seconds: float
    max_depth: int = 0
    max_decompressed_bytes: int = 0
    max_field_chars: int = 0


def limits_for(kind: str, settings: Settings | None = None) -> ImportLimits:
    s = settings or get_settings()
    if kind == CSV:
        return ImportLimits(
            max_bytes=s.csv_import_max_bytes,
            max_records=s.csv_import_max_rows,
            max_seconds=s.csv_import_max_seconds,
            max_field_chars=s.csv_import_max_field_chars,
        )
    if kind == APPLE_HEALTH:
        return ImportLimits(
            max_bytes=s.apple_health_import_max_bytes,
            max_records=s.apple_health_import_max_records,
            max_seconds=s.apple_health_import_max_seconds,
            max_depth=s.apple_health_import_max_depth,
            max_decompressed_bytes=s.apple_health_import_max_xml_bytes,
        )
    if kind == FHIR:
        return ImportLimits(
            max_bytes=s.fhir_import_max_bytes,
            max_records=s.fhir_import_max_entries,
            max_seconds=s.fhir_import_max_seconds,
            max_depth=s.fhir_import_max_depth,
        )
    raise ValueError(f"unknown import kind {kind!r}")


def largest_upload_bytes(settings: Settings | None = None) -> int:
    """The biggest file any import accepts: the web server's upload limit must match it."""
    return max(limits_for(kind, settings).max_bytes for kind in KINDS)


def _size(upload: IO[bytes]) -> int:
    upload.seek(0, 2)
    size = upload.tell()
    upload.seek(0)
    return size


def import_file(
    actor: User,
    patient_id: int,
    *,
    kind: str,
    upload: IO[bytes],
    filename: str,
    session: Session,
    now: datetime,
    mapping: ColumnMapping | None = None,
    settings: Settings | None = None,
) -> ImportReport:
    """Import one uploaded file of readings for a patient: every accepted reading, or none.

    Raises ``ImportRefused`` (nothing stored, reason in its message) or the access errors of
    ``entry.import_readings``.
    """
    # Access first: a refused caller learns nothing about limits or file contents.
    entry.require_writer(actor, patient_id, session=session, now=now)
    settings = settings or get_settings()
    limits = limits_for(kind, settings)
    label = entry.clean_label(filename)
    budget = ImportBudget(max_records=limits.max_records, max_seconds=limits.max_seconds)

    def store(
        items: Iterable[ReadingInput | Refusal], skipped: Counter[str] | None = None
    ) -> ImportReport:
        return entry.import_readings(
            actor,
            patient_id,
            items,
            session=session,
            now=now,
            source=kind,
            label=label,
            skipped=skipped,
            budget=budget,
        )

    try:
        if _size(upload) > limits.max_bytes:
            raise ImportRefused(
                f"the file is larger than {limits.max_bytes / 1024**2:.0f} MB, the most one "
                "import of this kind takes. Please split it or export a shorter period."
            )
        if kind == CSV:
            if mapping is None:
                raise ImportRefused("please say which column is which first.")
            items = csv_import.parse_csv(
                upload.read(),
                mapping,
                tz=settings.tz,
                budget=budget,
                max_field_chars=limits.max_field_chars,
            )
            return store(items)
        if kind == FHIR:
            patient = session.get(Patient, patient_id)
            items = fhir_import.parse_fhir(
                upload.read(),
                patient=patient,
                budget=budget,
                max_bytes=limits.max_bytes,
                max_depth=limits.max_depth,
            )
            return store(items)
        if kind == APPLE_HEALTH:
            with apple_health.export_stream(
                upload, filename, max_xml_bytes=limits.max_decompressed_bytes
            ) as stream:
                parsed = apple_health.AppleHealthFile(
                    stream, budget=budget, max_depth=limits.max_depth
                )
                return store(parsed.readings(), parsed.skipped)
        raise ValueError(f"unknown import kind {kind!r}")
    except ImportRefused as refused:
        if not refused.audited:
            entry.audit_refused_import(
                label, refused.reason, actor=actor, patient_id=patient_id, session=session, now=now
            )
        raise
