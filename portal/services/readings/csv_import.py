"""CSV files from home devices and spreadsheets, read through a column mapping the patient picks.

``preview`` reads the header and a few rows and guesses the mapping; ``parse_csv`` streams the
whole file with the mapping the patient confirmed. A file may hold one measure (chosen on the
form) or several (a column names the measure per row). Dates without a zone are clinic time.
"""

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import IO
from zoneinfo import ZoneInfo

from portal.errors import InvalidInput
from portal.services.readings import units
from portal.services.readings.entry import (
    ImportBudget,
    ImportRefused,
    ReadingInput,
    Refusal,
    checked_values,
)

# Words people and devices use for each measure, lower-case.
MEASURE_WORDS = {
    units.BLOOD_PRESSURE: ("blood pressure", "bp", "blood_pressure", "pressure"),
    units.WEIGHT: ("weight", "body weight", "body mass", "mass"),
    units.GLUCOSE: ("glucose", "blood glucose", "blood sugar", "sugar", "bg"),
    units.HEART_RATE: ("heart rate", "heart_rate", "pulse", "hr", "bpm"),
    units.STEPS: ("steps", "step count", "step_count"),
    units.SPO2: ("spo2", "oxygen", "oxygen saturation", "o2 sat", "spo₂"),
}
_WORD_TO_MEASURE = {w: m for m, words in MEASURE_WORDS.items() for w in words}
# Headers of a systolic column (blood-pressure monitors: "SYS", "Systolic (mmHg)").
SYSTOLIC_WORDS = ("systolic", "sys", "sbp", "systole")
_HEADER_HINTS = {
    "date": (
        "date",
        "datetime",
        "date/time",
        "date & time",
        "timestamp",
        "time",
        "when",
        "taken",
        "day",
    ),
    # A clock time in its own column, beside the date ("Date,Time,SYS,DIA,Pulse").
    "time": ("time", "clock", "hour"),
    "measure": ("measure", "type", "kind", "metric", "measurement"),
    "value": (*SYSTOLIC_WORDS, "value", "reading", "result", "amount"),
    "value2": ("diastolic", "dia", "dbp", "diastole", "value2", "low"),
    "unit": ("unit", "units", "uom"),
}
# A column saying where a measurement was taken. The portal's own exports (result trends, which
# put home readings beside clinic results) mark clinic measurements in it; those are in the
# record already and are never imported as home readings.
SOURCE_HEADERS = ("source", "origin", "measured at", "measured by", "recorded by", "where")
CLINIC_SOURCE = re.compile(r"\b(clinic|office|lab|laboratory|hospital|ehr)\b", re.IGNORECASE)
CLINIC_ROW = "measured at the clinic: it is already in your record, so it is not a home reading."
_DATE_FORMATS = (
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%y",
    "%d.%m.%Y %H:%M",  # European monitors write the day first, with dots
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)
_BP = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(\d+(?:\.\d+)?)\s*$")
PREVIEW_ROWS = 5


@dataclass(frozen=True)
class ColumnMapping:
    """Which column is what. ``measure`` / ``unit`` may instead be fixed for the whole file."""

    date: str
    value: str
    measure_column: str | None = None
    measure: str | None = None  # used when there is no measure column
    unit_column: str | None = None
    unit: str | None = None  # used when there is no unit column (else the canonical unit)
    value2: str | None = None  # diastolic, when it has its own column
    time: str | None = None  # the clock time, when it has its own column beside the date


@dataclass(frozen=True)
class CsvPreview:
    columns: list[str]
    rows: list[list[str]]
    guess: ColumnMapping | None
    delimiter: str
    source_column: str | None = None  # where clinic rows are marked (they are left out)


def _text(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" is UTF-16
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise InvalidInput("The file is not a text (CSV) file.") from None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput("The file is not a text (CSV) file.")


def _dialect(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _guess(columns: list[str]) -> ColumnMapping | None:
    lower = {c: c.strip().lower() for c in columns}

    def find(role: str, taken: set[str]) -> str | None:
        for hint in _HEADER_HINTS[role]:
            for column, name in lower.items():
                if column not in taken and (name == hint or hint in name.split()):
                    return column
        return None

    def header(column: str) -> str:
        return lower[column].split("(")[0].strip()

    taken: set[str] = set(filter(None, [source_column(columns)]))
    found: dict[str, str | None] = {}
    for role in ("date", "time", "measure", "unit", "value2", "value"):
        named = find(role, taken)
        found[role] = named
        if named:
            taken.add(named)
    measure_from_header = None
    if found["value"] and header(found["value"]).partition(" ")[0] in SYSTOLIC_WORDS:
        # Systolic and diastolic columns: every row is a blood pressure.
        measure_from_header = units.BLOOD_PRESSURE
    elif found["value"] is None:
        # A column named after the measure ('Weight (lb)') holds the values.
        for column in lower:
            word = header(column)
            if column not in taken and word in _WORD_TO_MEASURE:
                found["value"] = column
                measure_from_header = _WORD_TO_MEASURE[word]
                break
    if not found["date"] or not found["value"]:
        return None
    if measure_from_header != units.BLOOD_PRESSURE and found["value2"]:
        # "low" or "dia" beside a single measure is not a diastolic.
        found["value2"] = None if measure_from_header else found["value2"]
    return ColumnMapping(
        date=found["date"],
        value=found["value"],
        measure_column=found["measure"],
        measure=measure_from_header,
        unit_column=found["unit"],
        unit=_unit_in_header(found["value"], measure_from_header),
        value2=found["value2"],
        time=found["time"],
    )


def _unit_in_header(column: str, measure: str | None) -> str | None:
    """The unit a header names in brackets ("Weight (lb)"), when the measure takes it."""
    match = re.search(r"\(([^)]*)\)", column)
    if measure is None or match is None:
        return None
    named = match.group(1).strip().lower()
    return next((u for u in units.MEASURES[measure].entry_units if u.lower() == named), None)


def source_column(columns: list[str]) -> str | None:
    """The column that says where each measurement was taken, if the file has one."""
    for column in columns:
        if column.strip().lower() in SOURCE_HEADERS:
            return column
    return None


def from_clinic(row: dict[str, str], column: str | None) -> bool:
    if not column:
        return False
    return bool(CLINIC_SOURCE.search(row.get(column) or ""))


def preview(data: bytes) -> CsvPreview:
    """The header, the first rows and a guessed mapping, for the mapping step."""
    text = _text(data[: 64 * 1024])
    delimiter = _dialect(text[:8192])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        columns = [c.strip() for c in next(reader)]
        rows: list[list[str]] = []
        for row in reader:
            if len(rows) >= PREVIEW_ROWS:
                break
            rows.append(row)
    except StopIteration:
        raise InvalidInput("The file is empty.") from None
    except csv.Error as error:
        raise InvalidInput(f"The file cannot be read as CSV ({error}).") from None
    if len(columns) < 2 or len(set(columns)) != len(columns) or not all(columns):
        raise InvalidInput(
            "The first line must name each column (for example: date, value, unit), "
            "each with a different name."
        )
    return CsvPreview(columns, rows, _guess(columns), delimiter, source_column(columns))


def parse_date(text: str, tz: ZoneInfo) -> datetime:
    text = text.strip()
    value: datetime | None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
        for fmt in _DATE_FORMATS:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if value is None:
            raise InvalidInput(f"'{text[:40]}' is not a date we can read.") from None
    return value if value.tzinfo else value.replace(tzinfo=tz)


def measure_from_text(text: str) -> str | None:
    return _WORD_TO_MEASURE.get(text.strip().lower()) or (
        text.strip().lower() if text.strip().lower() in units.MEASURES else None
    )


def _number(text: str) -> float:
    try:
        return float(text.strip().replace(",", ""))
    except ValueError:
        raise InvalidInput(f"'{text[:40]}' is not a number.") from None


def _row(
    row: dict[str, str], mapping: ColumnMapping, tz: ZoneInfo, where: str
) -> ReadingInput | Refusal:
    measure = (
        measure_from_text(row.get(mapping.measure_column) or "")
        if mapping.measure_column
        else mapping.measure
    )
    if measure is None:
        label = (row.get(mapping.measure_column) or "") if mapping.measure_column else ""
        return Refusal(where, f"'{label[:40]}' is not a measure the portal tracks.")
    raw_value = (row.get(mapping.value) or "").strip()
    if not raw_value:
        return Refusal(where, "The value is empty.")
    unit = (row.get(mapping.unit_column) or "") if mapping.unit_column else (mapping.unit or "")
    unit = unit.strip() or units.MEASURES[measure].unit
    try:
        when = row.get(mapping.date) or ""
        if mapping.time:
            when = f"{when.strip()} {(row.get(mapping.time) or '').strip()}"
        taken_at = parse_date(when, tz)
        value2 = None
        match = _BP.match(raw_value)
        if match:
            value, value2 = float(match.group(1)), float(match.group(2))
        else:
            value = _number(raw_value)
            if mapping.value2:
                value2 = _number(row.get(mapping.value2) or "")
    except InvalidInput as error:
        return Refusal(where, error.user_message)
    if measure != units.BLOOD_PRESSURE:
        value2 = None
    return ReadingInput(
        measure=measure, value=value, value2=value2, unit=unit, taken_at=taken_at, where=where
    )


def check_mapping(columns: list[str], mapping: ColumnMapping) -> None:
    """Refuse a mapping that names a missing column or leaves the measure unknown."""
    named = [mapping.date, mapping.value, mapping.measure_column, mapping.unit_column]
    named += [mapping.value2, mapping.time]
    for column in named:
        if column is not None and column not in columns:
            raise InvalidInput(f"The file has no column '{column}'.")
    if mapping.measure_column is None and mapping.measure not in units.MEASURES:
        raise InvalidInput("Please choose which column names the measure, or what it measures.")
    if mapping.date == mapping.value:
        raise InvalidInput("The date and the value must be different columns.")


def parse_csv(
    source: IO[bytes] | bytes,
    mapping: ColumnMapping,
    *,
    tz: ZoneInfo,
    budget: ImportBudget | None = None,
    max_field_chars: int = 1_000,
) -> Iterator[ReadingInput | Refusal]:
    """Stream readings from the file with the confirmed mapping (line numbers as in the file).

    A file that cannot be read as CSV at all (not text, a field longer than ``max_field_chars``,
    a broken quote) raises ``ImportRefused``; a row that cannot be read is one refusal.
    """
    raw = source if isinstance(source, bytes) else source.read()
    if budget is not None and raw.count(b"\n") > budget.max_records + 1:
        # Counting lines takes milliseconds; reading them all to find out takes many seconds.
        raise ImportRefused(
            f"the file has more than {budget.max_records:,} lines, the most one import takes. "
            "Please split it."
        )
    try:
        text = _text(raw)
    except InvalidInput as error:
        raise ImportRefused(error.user_message) from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_dialect(text[:8192]))
    try:
        if reader.fieldnames is None:
            return
        reader.fieldnames = [f.strip() for f in reader.fieldnames]
        try:
            check_mapping(reader.fieldnames, mapping)
        except InvalidInput as error:
            raise ImportRefused(error.user_message) from None
        clinic_column = source_column(reader.fieldnames)
        for row in reader:
            if budget is not None:
                budget.count()
            where = f"line {reader.line_num}"
            # Cells beyond the header's columns arrive as a list under the key None.
            values = [
                cell
                for value in row.values()
                for cell in (value if isinstance(value, list) else [value])
                if isinstance(cell, str)
            ]
            if any(len(v) > max_field_chars for v in values):
                raise ImportRefused(
                    f"{where} has a field longer than {max_field_chars:,} characters; this "
                    "does not look like a file of readings."
                )
            if not any(v.strip() for v in values):
                continue
            if from_clinic(row, clinic_column):
                yield Refusal(where, CLINIC_ROW)
                continue
            yield _row(row, mapping, tz, where)
    except csv.Error as error:
        # e.g. a field over the csv module's own limit: the rest of the file cannot be trusted.
        raise ImportRefused(
            f"the file cannot be read as CSV after line {reader.line_num} ({error})."
        ) from None


@dataclass(frozen=True)
class PreviewReading:
    """One of the first rows as the import would take it, or why it would be left out."""

    where: str
    measure: str = ""
    reading: str = ""
    taken_at: datetime | None = None
    problem: str = ""


def preview_readings(
    data: bytes, mapping: ColumnMapping, *, tz: ZoneInfo, now: datetime, rows: int = PREVIEW_ROWS
) -> list[PreviewReading]:
    """The first ``rows`` rows read with ``mapping`` and checked as the import checks them, so
    the patient sees what will be stored before anything is. Raises InvalidInput for a mapping
    or file the import would refuse whole."""
    out = []
    for item in islice(parse_csv(data, mapping, tz=tz), rows):
        if isinstance(item, Refusal):
            out.append(PreviewReading(item.where, problem=item.reason))
            continue
        try:
            values = checked_values(item, now=now)
        except InvalidInput as error:
            out.append(PreviewReading(item.where, problem=error.user_message))
            continue
        out.append(
            PreviewReading(
                item.where,
                measure=units.MEASURES[values["measure"]].label,
                reading=units.display(values["measure"], values["value"], values["value2"]),
                taken_at=values["taken_at"],
            )
        )
    return out
