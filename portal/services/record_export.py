"""My data: the whole record as a FHIR R4 Bundle and as a printable HTML summary.

Both read the same rows (one query per record type, filtered in SQL by the date range), and every
export is audited with its format and range. The bundle is checked against ``fhir.resources.R4B``
before it leaves, so a file we hand out always parses.
"""

import base64
import html
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import and_, or_, true
from sqlmodel import Session, select

from db.models import (
    AllergyIntolerance,
    Appointment,
    Condition,
    DiagnosticReport,
    Document,
    Encounter,
    Immunization,
    MedicationRequest,
    Observation,
    Patient,
    Practitioner,
    ServiceRequest,
    User,
)
from portal.config import get_settings
from portal.errors import InvalidInput, NotFound
from portal.services import access, audit
from portal.services.result_flags import range_text, result_flag, value_text
from portal.timefmt import format_date, format_datetime

EXPORTED_RECORD = "downloaded record"
WITHDRAWN = "entered-in-error"
_NS = uuid.UUID("5f0c7c1e-2d55-4e0c-9a51-6c1d0f7f6a10")  # fixed: the same row, the same fullUrl
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PORTAL_ID_SYSTEM = "urn:clinic-portal:source-id"


@dataclass(frozen=True)
class DateRange:
    """Inclusive clinic-local dates; None on a side means open-ended."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self):
        if self.start and self.end and self.start > self.end:
            raise InvalidInput("The start date must be on or before the end date.")

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        tz = get_settings().tz
        low = (
            datetime.combine(self.start, time.min, tzinfo=tz).astimezone(UTC)
            if self.start
            else None
        )
        high = (
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz).astimezone(UTC)
            if self.end
            else None
        )
        return low, high

    def label(self) -> str:
        if not (self.start or self.end):
            return "all dates"
        return f"{format_date(self.start) or 'the beginning'} to {format_date(self.end) or 'today'}"


@dataclass
class RecordRows:
    """Everything exported, read once."""

    patient: Patient
    practitioners: dict[int, str] = field(default_factory=dict)
    conditions: list[Condition] = field(default_factory=list)
    medications: list[MedicationRequest] = field(default_factory=list)
    allergies: list[AllergyIntolerance] = field(default_factory=list)
    immunizations: list[Immunization] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    reports: list[DiagnosticReport] = field(default_factory=list)
    encounters: list[Encounter] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    referrals: list[ServiceRequest] = field(default_factory=list)


@dataclass(frozen=True)
class RecordFile:
    file_name: str
    mime: str
    content: bytes


def _in_range(column, low: datetime | date | None, high: datetime | date | None):
    """Rows dated inside the range; undated rows are kept (they cannot be placed outside it)."""
    bounds = []
    if low is not None:
        bounds.append(column >= low)
    if high is not None:
        bounds.append(column < high)
    if not bounds:
        return true()
    return or_(column.is_(None), and_(*bounds))


def read_rows(patient: Patient, period: DateRange, *, session: Session) -> RecordRows:
    low, high = period.bounds()
    low_day = period.start
    high_day = period.end + timedelta(days=1) if period.end else None
    pid = patient.id

    def rows(model, dated, *, day: bool = False, status=None, order=None) -> list:
        query = select(model).where(model.patient_id == pid)
        query = query.where(_in_range(dated, low_day if day else low, high_day if day else high))
        if status is not None:
            query = query.where(or_(status.is_(None), status != WITHDRAWN))
        return list(session.exec(query.order_by(order if order is not None else model.id)).all())

    return RecordRows(
        patient=patient,
        practitioners=dict(session.exec(select(Practitioner.id, Practitioner.name)).all()),
        conditions=rows(
            Condition, Condition.onset_date, day=True, status=Condition.clinical_status
        ),
        medications=rows(
            MedicationRequest, MedicationRequest.authored_on, status=MedicationRequest.status
        ),
        allergies=rows(
            AllergyIntolerance,
            AllergyIntolerance.recorded_date,
            status=AllergyIntolerance.clinical_status,
        ),
        immunizations=rows(Immunization, Immunization.occurrence, status=Immunization.status),
        observations=rows(
            Observation,
            Observation.effective_at,
            status=Observation.status,
            order=Observation.effective_at,
        ),
        reports=rows(
            DiagnosticReport, DiagnosticReport.effective_at, status=DiagnosticReport.status
        ),
        encounters=rows(Encounter, Encounter.start, status=Encounter.status, order=Encounter.start),
        appointments=rows(Appointment, Appointment.start, status=Appointment.status),
        documents=rows(Document, Document.date, status=Document.status),
        referrals=rows(ServiceRequest, ServiceRequest.authored_on, status=ServiceRequest.status),
    )


# --- FHIR -----------------------------------------------------------------------------------


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _concept(system: str | None, code: str | None, text: str | None) -> dict:
    concept: dict[str, Any] = {}
    if code:
        coding = {"code": code}
        if system:
            coding["system"] = system
        if text:
            coding["display"] = text
        concept["coding"] = [coding]
    if text:
        concept["text"] = text
    return concept or {"text": "Unknown"}


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        return [_drop_none(v) for v in value if v is not None]
    return value


class _Builder:
    def __init__(self, rows: RecordRows):
        self.rows = rows
        self.entries: list[dict] = []

    def url(self, resource_type: str, row_id: int) -> str:
        return f"urn:uuid:{uuid.uuid5(_NS, f'{resource_type}/{row_id}')}"

    @property
    def patient_ref(self) -> dict:
        return {"reference": self.url("Patient", self.rows.patient.id)}

    def practitioner(self, practitioner_id: int | None) -> dict | None:
        name = self.rows.practitioners.get(practitioner_id) if practitioner_id else None
        return {"display": name} if name else None

    def add(self, resource_type: str, row: Any, resource: dict) -> None:
        identifier = row.fhir_id
        resource = {
            "resourceType": resource_type,
            "id": f"{resource_type.lower()}-{row.id}",
            # Where the entry came from (the EHR's id), so a re-import can match it.
            "identifier": (
                [
                    {
                        "system": f"{PORTAL_ID_SYSTEM}:{quote(row.source, safe='')}",
                        "value": identifier,
                    }
                ]
                if identifier
                else None
            ),
            **resource,
        }
        self.entries.append(
            {"fullUrl": self.url(resource_type, row.id), "resource": _drop_none(resource)}
        )


def _patient(b: _Builder, p: Patient) -> None:
    b.add(
        "Patient",
        p,
        {
            "name": [{"given": [p.given_name] if p.given_name else None, "family": p.family_name}],
            "birthDate": _iso(p.birth_date),
            "gender": p.sex if p.sex in ("male", "female", "other", "unknown") else None,
            "telecom": [
                {"system": "phone", "value": p.phone} if p.phone else None,
                {"system": "email", "value": p.email} if p.email else None,
            ],
            "address": [{"text": p.address}] if p.address else None,
            "communication": [{"language": {"coding": [{"code": p.language}]}}]
            if p.language
            else None,
            "deceasedBoolean": p.deceased or None,
        },
    )


def build_bundle(rows: RecordRows, now: datetime) -> dict:
    """The record as a FHIR R4 ``collection`` Bundle (plain JSON-ready dict)."""
    b = _Builder(rows)
    _patient(b, rows.patient)
    subject = b.patient_ref
    for c in rows.conditions:
        b.add(
            "Condition",
            c,
            {
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": c.clinical_status,
                        }
                    ]
                }
                if c.clinical_status
                else None,
                "code": _concept(c.code_system, c.code, c.display),
                "subject": subject,
                "onsetDateTime": _iso(c.onset_date),
                "abatementDateTime": _iso(c.abatement_date),
            },
        )
    for m in rows.medications:
        b.add(
            "MedicationRequest",
            m,
            {
                "status": m.status or "unknown",
                "intent": "order",
                "medicationCodeableConcept": _concept(m.code_system, m.code, m.display),
                "subject": subject,
                "authoredOn": _iso(m.authored_on),
                "requester": b.practitioner(m.prescriber_id),
                "dosageInstruction": [{"text": m.dosage_text}] if m.dosage_text else None,
            },
        )
    for a in rows.allergies:
        b.add(
            "AllergyIntolerance",
            a,
            {
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/"
                            "allergyintolerance-clinical",
                            "code": a.clinical_status,
                        }
                    ]
                }
                if a.clinical_status
                else None,
                "criticality": a.criticality,
                "code": _concept(a.code_system, a.code, a.display),
                "patient": subject,
                "recordedDate": _iso(a.recorded_date),
                "reaction": [{"manifestation": [{"text": a.reaction}]}] if a.reaction else None,
            },
        )
    for i in rows.immunizations:
        b.add(
            "Immunization",
            i,
            {
                "status": i.status or "completed",
                "vaccineCode": _concept(i.code_system, i.code, i.display),
                "patient": subject,
                "occurrenceDateTime": _iso(i.occurrence),
                "occurrenceString": None if i.occurrence else "unknown",
            },
        )
    for o in rows.observations:
        b.add("Observation", o, _observation(o, subject))
    for r in rows.reports:
        b.add(
            "DiagnosticReport",
            r,
            {
                "status": r.status or "final",
                "code": _concept(r.code_system, r.code, r.display),
                "subject": subject,
                "effectiveDateTime": _iso(r.effective_at),
                "issued": _iso(r.issued_at),
                "conclusion": r.conclusion,
            },
        )
    for e in rows.encounters:
        b.add(
            "Encounter",
            e,
            {
                "status": e.status or "finished",
                "class": {"system": ACT_CODE, "code": e.class_code or "AMB"},
                "type": [_concept(None, e.type_code, e.type_display)]
                if (e.type_code or e.type_display)
                else None,
                "subject": subject,
                "participant": [{"individual": b.practitioner(e.practitioner_id)}]
                if e.practitioner_id and b.practitioner(e.practitioner_id)
                else None,
                "period": {"start": _iso(e.start), "end": _iso(e.end)} if e.start else None,
                "reasonCode": [{"text": e.reason}] if e.reason else None,
            },
        )
    for ap in rows.appointments:
        participants = [{"actor": {**subject, "display": rows.patient.display_name}}]
        if doctor := b.practitioner(ap.practitioner_id):
            participants.append({"actor": doctor})
        b.add(
            "Appointment",
            ap,
            {
                "status": ap.status or "booked",
                "serviceType": [{"text": ap.service_type}] if ap.service_type else None,
                "description": ap.description,
                "start": _iso(ap.start),
                "end": _iso(ap.end),
                "participant": [{**p, "status": "accepted"} for p in participants],
            },
        )
    for d in rows.documents:
        attachment = {
            "contentType": d.content_type or ("text/plain" if d.text else None),
            "title": d.title or d.type_display or "Document",
            "data": base64.b64encode(d.text.encode()).decode() if d.text else None,
        }
        b.add(
            "DocumentReference",
            d,
            {
                "status": d.status or "current",
                "type": _concept(None, d.type_code, d.type_display)
                if (d.type_code or d.type_display)
                else None,
                "subject": subject,
                "date": _iso(d.date),
                "description": d.description,
                "content": [{"attachment": attachment}],
            },
        )
    for s in rows.referrals:
        b.add(
            "ServiceRequest",
            s,
            {
                "status": s.status or "active",
                "intent": s.intent or "order",
                "code": _concept(s.code_system, s.code, s.display)
                if (s.code or s.display)
                else None,
                "subject": subject,
                "authoredOn": _iso(s.authored_on),
                "occurrenceDateTime": _iso(s.occurrence),
                "requester": b.practitioner(s.requester_id),
                "performerType": {"text": s.specialty} if s.specialty else None,
                "performer": [{"display": s.performer_name}] if s.performer_name else None,
                "reasonCode": [{"text": s.reason}] if s.reason else None,
            },
        )
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NS, f"export/{rows.patient.id}/{now.isoformat()}")),
        "type": "collection",
        "timestamp": now.isoformat(),
        "entry": b.entries,
    }


def _observation(o: Observation, subject: dict) -> dict:
    resource: dict[str, Any] = {
        "status": o.status or "final",
        "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": o.category}]}],
        "code": _concept(o.code_system, o.code, o.display),
        "subject": subject,
        "effectiveDateTime": _iso(o.effective_at),
    }
    if o.value is not None:
        resource["valueQuantity"] = {"value": o.value, "unit": o.unit}
    elif o.value_string:
        resource["valueString"] = o.value_string
    if o.ref_low is not None or o.ref_high is not None:
        resource["referenceRange"] = [
            {
                "low": {"value": o.ref_low, "unit": o.unit} if o.ref_low is not None else None,
                "high": {"value": o.ref_high, "unit": o.unit} if o.ref_high is not None else None,
            }
        ]
    if o.interpretation:
        resource["interpretation"] = [
            {"coding": [{"system": INTERPRETATION, "code": o.interpretation}]}
        ]
    return resource


# --- printable summary ----------------------------------------------------------------------


def _words(code: str | None) -> str:
    return (code or "").replace("-", " ").replace("_", " ").capitalize()


def _table(title: str, headers: list[str], rows: list[list[str]], empty: str) -> str:
    e = html.escape
    parts = [f"<h2>{e(title)}</h2>"]
    if not rows:
        parts.append(f'<p class="empty">{e(empty)}</p>')
        return "\n".join(parts)
    parts.append("<table><thead><tr>")
    parts.extend(f"<th>{e(h)}</th>" for h in headers)
    parts.append("</tr></thead><tbody>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{e(str(cell))}</td>" for cell in row) + "</tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)


_STYLE = """
body { font-family: Georgia, 'Times New Roman', serif; margin: 2em; color: #111; }
h1 { font-size: 1.6em; margin-bottom: 0; }
h2 { font-size: 1.2em; border-bottom: 1px solid #999; margin-top: 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
td { overflow-wrap: anywhere; }
.meta, .empty { color: #444; }
@media print {
  body { margin: 1cm; }
  h2 { page-break-after: avoid; }
  tr { page-break-inside: avoid; }
}
"""


def build_summary_html(rows: RecordRows, period: DateRange, now: datetime, clinic: str) -> str:
    """A self-contained, print-ready page; every value from the record is HTML-escaped."""
    p = rows.patient
    e = html.escape
    sections = [
        _table(
            "Problems",
            ["Problem", "Status", "Since"],
            [
                [c.display or c.code or "", _words(c.clinical_status), format_date(c.onset_date)]
                for c in rows.conditions
            ],
            "No problems recorded.",
        ),
        _table(
            "Medications",
            ["Medication", "Instructions", "Status", "Prescribed"],
            [
                [
                    m.display or m.code or "",
                    m.dosage_text or "",
                    _words(m.status),
                    format_date(m.authored_on),
                ]
                for m in rows.medications
            ],
            "No medications recorded.",
        ),
        _table(
            "Allergies",
            ["Allergy", "Reaction", "Severity"],
            [
                [a.display or a.code or "", a.reaction or "", a.criticality or ""]
                for a in rows.allergies
            ],
            "No known allergies.",
        ),
        _table(
            "Immunizations",
            ["Vaccine", "Date"],
            [[i.display or i.code or "", format_date(i.occurrence)] for i in rows.immunizations],
            "No immunizations recorded.",
        ),
        _table(
            "Test results and vitals",
            ["Test", "Result", "Unit", "Normal range", "Flag", "Date"],
            [
                [
                    o.display or o.code,
                    value_text(o.value, o.value_string),
                    o.unit or "",
                    range_text(o.ref_low, o.ref_high),
                    result_flag(
                        value=o.value,
                        value_string=o.value_string,
                        ref_low=o.ref_low,
                        ref_high=o.ref_high,
                        interpretation=o.interpretation,
                    ),
                    format_date(o.effective_at),
                ]
                for o in rows.observations
            ],
            "No results recorded.",
        ),
        _table(
            "Visits",
            ["Date", "Visit", "Reason", "Seen by"],
            [
                [
                    format_datetime(v.start),
                    v.type_display or v.class_code or "Visit",
                    v.reason or "",
                    rows.practitioners.get(v.practitioner_id, ""),
                ]
                for v in rows.encounters
            ],
            "No visits recorded.",
        ),
        _table(
            "Referrals",
            ["Specialty", "Status", "Requested", "To"],
            [
                [s.specialty or s.display, s.status, format_date(s.authored_on), s.performer_name]
                for s in rows.referrals
            ],
            "No referrals recorded.",
        ),
    ]
    born = format_date(p.birth_date)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Health summary: {e(p.display_name)}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>Health summary: {e(p.display_name)}</h1>
<p class="meta">Born {e(born or "unknown")} · MRN {e(p.mrn or "")} · {e(clinic)}<br>
Dates: {e(period.label())} · Printed {e(format_datetime(now))}</p>
{"".join(sections)}
</body>
</html>
"""


# --- the audited entry points ---------------------------------------------------------------


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
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("We could not find this patient's record.")
    rows = read_rows(patient, period, session=session)
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
    """The record as a FHIR R4 Bundle (JSON), validated with fhir.resources R4B; audited."""

    def render(rows: RecordRows) -> tuple[str, str, bytes]:
        bundle = build_bundle(rows, now)
        Bundle.model_validate(bundle)  # a file we hand out must parse
        content = json.dumps(bundle, indent=2, ensure_ascii=False).encode()
        return f"{_stem(rows.patient, now)}.fhir.json", "application/fhir+json", content

    return _export(
        user, patient_id, period, session=session, now=now, kind="FHIR bundle", render=render
    )


def export_printable_summary(
    user: User, patient_id: int, period: DateRange, *, session: Session, now: datetime
) -> RecordFile:
    """A print-ready HTML summary of the record; audited."""

    def render(rows: RecordRows) -> tuple[str, str, bytes]:
        page = build_summary_html(rows, period, now, get_settings().clinic_name)
        return f"{_stem(rows.patient, now)}.html", "text/html", page.encode()

    return _export(
        user, patient_id, period, session=session, now=now, kind="printable summary", render=render
    )
