"""The audited entry points of My data: each checks access, reads the rows once, renders one file
and records the export (format and range) in the audit log, in one transaction."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import ValidationError
from sqlmodel import Session

from db.models import Patient, User
from portal.config import get_settings
from portal.errors import PortalError
from portal.services import access, audit
from portal.services.record_export.bundle import build_bundle
from portal.services.record_export.rows import DateRange, RecordRows, _read_rows
from portal.services.record_export.summary import build_summary
from portal.services.record_export.summary_html import render_summary_html
from portal.services.record_export.summary_pdf import render_summary_pdf
from portal.services.rows import MISSING_PATIENT, get_or_not_found

EXPORTED_RECORD = "downloaded record"


@dataclass(frozen=True)
class RecordFile:
    file_name: str
    mime: str
    content: bytes


class RecordNotExportable(PortalError):
    user_message = (
        "Part of this record could not be written as a FHIR file, so no file was made. "
        "Please tell the clinic; the printable summary still works."
    )


def _export(
    user: User,
    patient_id: int,
    period: DateRange,
    *,
    session: Session,
    now: datetime,
    kind: str,
    render: Callable[[RecordRows], tuple[str, str, bytes]],
) -> RecordFile:
    access.require_patient_access(
        user, patient_id, session=session, category=EXPORTED_RECORD, now=now
    )
    patient = get_or_not_found(session, Patient, patient_id, MISSING_PATIENT)
    rows = _read_rows(patient, period, session=session)
    file_name, mime, content = render(rows)
    audit.record(
        session=session,
        actor=user,
        category=EXPORTED_RECORD,
        action="export",
        patient_id=patient_id,
        detail=f"{kind}, {period.label()}",
        now=now,
    )
    session.commit()
    return RecordFile(file_name=file_name, mime=mime, content=content)


def _stem(patient: Patient, now: datetime) -> str:
    name = "".join(ch for ch in patient.display_name if ch.isalnum() or ch == " ").strip()
    return f"health-record-{name.replace(' ', '-').lower() or 'patient'}-{now:%Y%m%d}"


def export_fhir_bundle(
    user: User, patient_id: int, period: DateRange, *, session: Session, now: datetime
) -> RecordFile:
    """The record as a FHIR R4 Bundle (JSON) of resources validated as they are built; audited."""

    def render(rows: RecordRows) -> tuple[str, str, bytes]:
        try:
            bundle = build_bundle(rows, now)
        except ValidationError as error:
            raise RecordNotExportable() from error
        data = bundle.model_dump(mode="json")
        content = json.dumps(data, indent=2, ensure_ascii=False).encode()
        return f"{_stem(rows.patient, now)}.fhir.json", "application/fhir+json", content

    return _export(
        user, patient_id, period, session=session, now=now, kind="FHIR bundle", render=render
    )


def export_printable_summary(
    user: User, patient_id: int, period: DateRange, *, session: Session, now: datetime
) -> RecordFile:
    """A print-ready HTML summary of the record; audited."""

    def render(rows: RecordRows) -> tuple[str, str, bytes]:
        summary = build_summary(rows, period, now, get_settings().clinic_name)
        page = render_summary_html(summary)
        return f"{_stem(rows.patient, now)}.html", "text/html", page.encode()

    return _export(
        user, patient_id, period, session=session, now=now, kind="printable summary", render=render
    )


def export_summary_pdf(
    user: User, patient_id: int, period: DateRange, *, session: Session, now: datetime
) -> RecordFile:
    """The printable summary as a PDF; audited like the HTML one."""

    def render(rows: RecordRows) -> tuple[str, str, bytes]:
        summary = build_summary(rows, period, now, get_settings().clinic_name)
        content = render_summary_pdf(summary, now)
        return f"{_stem(rows.patient, now)}.pdf", "application/pdf", content

    return _export(
        user, patient_id, period, session=session, now=now, kind="PDF summary", render=render
    )
