"""What the printable summary says, as plain strings: one source for the HTML and the PDF, so the
two downloads never disagree. Nothing here is markup; each renderer escapes or places the text."""

from dataclasses import dataclass
from datetime import datetime

from portal.services.record_export.rows import DateRange, RecordRows
from portal.services.result_flags import range_text, result_flag, value_text
from portal.timefmt import format_date, format_datetime


@dataclass(frozen=True)
class Section:
    title: str
    headers: list[str]
    rows: list[list[str]]
    empty: str


@dataclass(frozen=True)
class Summary:
    patient_name: str
    born: str
    mrn: str
    clinic: str
    dates: str
    printed: str
    sections: list[Section]


def _words(code: str | None) -> str:
    return (code or "").replace("-", " ").replace("_", " ").capitalize()


def _cells(*values: object) -> list[str]:
    return ["" if v is None else str(v) for v in values]


def _problems(rows: RecordRows) -> Section:
    return Section(
        "Problems",
        ["Problem", "Status", "Since"],
        [
            _cells(c.display or c.code, _words(c.clinical_status), format_date(c.onset_date))
            for c in rows.conditions
        ],
        "No problems recorded.",
    )


def _medications(rows: RecordRows) -> Section:
    return Section(
        "Medications",
        ["Medication", "Instructions", "Status", "Prescribed"],
        [
            _cells(m.display or m.code, m.dosage_text, _words(m.status), format_date(m.authored_on))
            for m in rows.medications
        ],
        "No medications recorded.",
    )


def _allergies(rows: RecordRows) -> Section:
    return Section(
        "Allergies",
        ["Allergy", "Reaction", "Severity"],
        [_cells(a.display or a.code, a.reaction, a.criticality) for a in rows.allergies],
        "No known allergies.",
    )


def _immunizations(rows: RecordRows) -> Section:
    return Section(
        "Immunizations",
        ["Vaccine", "Date"],
        [_cells(i.display or i.code, format_date(i.occurrence)) for i in rows.immunizations],
        "No immunizations recorded.",
    )


def _results(rows: RecordRows) -> Section:
    return Section(
        "Test results and vitals",
        ["Test", "Result", "Unit", "Normal range", "Flag", "Date"],
        [
            _cells(
                o.display or o.code,
                value_text(o.value, o.value_string),
                o.unit,
                range_text(o.ref_low, o.ref_high),
                result_flag(
                    value=o.value,
                    value_string=o.value_string,
                    ref_low=o.ref_low,
                    ref_high=o.ref_high,
                    interpretation=o.interpretation,
                ),
                format_date(o.effective_at),
            )
            for o in rows.observations
        ],
        "No results recorded.",
    )


def _visits(rows: RecordRows) -> Section:
    return Section(
        "Visits",
        ["Date", "Visit", "Reason", "Seen by"],
        [
            _cells(
                format_datetime(v.start),
                v.type_display or v.class_code or "Visit",
                v.reason,
                rows.practitioners.get(v.practitioner_id) if v.practitioner_id else None,
            )
            for v in rows.encounters
        ],
        "No visits recorded.",
    )


def _referrals(rows: RecordRows) -> Section:
    return Section(
        "Referrals",
        ["Specialty", "Status", "Requested", "To"],
        [
            _cells(s.specialty or s.display, s.status, format_date(s.authored_on), s.performer_name)
            for s in rows.referrals
        ],
        "No referrals recorded.",
    )


SECTIONS = (_problems, _medications, _allergies, _immunizations, _results, _visits, _referrals)


def build_summary(rows: RecordRows, period: DateRange, now: datetime, clinic: str) -> Summary:
    p = rows.patient
    return Summary(
        patient_name=p.display_name,
        born=format_date(p.birth_date) or "unknown",
        mrn=p.mrn or "",
        clinic=clinic,
        dates=period.label(),
        printed=format_datetime(now),
        sections=[section(rows) for section in SECTIONS],
    )
