"""My readings: enter a home measurement, import a file from a device or app, see recent
readings, and follow goals. Patients and caregivers (for the record they may see)."""

from collections.abc import Callable, Sequence
from functools import partial

import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

from components import session_keys as keys
from components.actions import run_action, show_flash
from components.patient_context import record_page
from components.plain_text import md_literal
from components.portal_errors import show_error
from components.reading_fixes import render_reading_fixes
from components.readings_ui import (
    clinic_datetime,
    render_goals,
    render_import_preview,
    render_recent,
)
from db.models import User
from portal.clock import utcnow
from portal.errors import PortalError
from portal.services.attachments import upload_limit_mb
from portal.services.readings import csv_import, entry, file_import, units
from portal.services.readings.csv_import import ColumnMapping
from portal.services.readings.entry import AddResult, ImportReport
from portal.services.unit_of_work import Session
from portal.timefmt import format_datetime, to_local

NO_COLUMN = ""


def _show_report(report: entry.ImportReport) -> None:
    # Green only when every record was added: a file that added nothing is a failure.
    if report.outcome == "error":
        st.error(md_literal(f"Nothing was imported: {report.summary}."))
    elif report.outcome == "warning":
        st.warning(md_literal(f"Import finished: {report.summary}."))
    else:
        st.success(md_literal(f"Import finished: {report.summary}."))
    if report.added_by_measure:
        added = ", ".join(
            f"{n} {units.MEASURES[m].label.lower()}" for m, n in report.added_by_measure.items()
        )
        st.caption(md_literal(f"Added: {added}"))
    if report.refused:
        with st.expander(f"Why {report.refused:,} record(s) were refused"):
            for reason, count in report.reasons.most_common():
                st.text(f"{count} × {reason}")
            st.caption("Examples")
            for example in report.examples:
                st.text(example)
    if report.skipped:
        st.caption(
            f"{sum(report.skipped.values())} record(s) of kinds the portal does not track "
            "(such as workouts or energy) were left out."
        )


APPLE, CSV, FHIR = "apple_health", "csv", "fhir"
KIND_LABELS = {
    APPLE: "Apple Health export (export.zip or export.xml)",
    CSV: "CSV file (spreadsheet or device)",
    FHIR: "FHIR bundle (JSON)",
}
FILE_TYPES = {APPLE: ["zip", "xml"], CSV: ["csv", "txt"], FHIR: ["json"]}


def _index(options: Sequence[object], value: object) -> int:
    return options.index(value) if value in options else 0


def _column(
    label: str,
    options: list[str],
    guessed: str | None,
    key: str,
    *,
    blank: str | None = None,
    format_func: Callable[[str], str] = str,
) -> str:
    """One choice of the mapping step, preset to the guessed one; ``blank`` says what the empty
    choice (no such column) means."""
    return st.selectbox(
        md_literal(label),  # the page's own words; md_literal keeps the UI scan's rule
        options,
        index=_index(options, guessed),
        format_func=(lambda c: c or f"({blank})") if blank is not None else format_func,
        key=key,
    )


def _column_mapping(preview: csv_import.CsvPreview) -> ColumnMapping:
    """Which column of the CSV file is which, asked with the import's guesses preset."""
    guess, columns = preview.guess, preview.columns
    optional = [NO_COLUMN, *columns]
    date_col = _column("Date and time", columns, guess.date if guess else None, "map_date")
    time_col = _column(
        "Time column (when the time is apart from the date)",
        optional,
        guess.time if guess else None,
        "map_time",
        blank="none: the time is in the date column",
    )
    value_col = _column("Value", columns, guess.value if guess else columns[-1], "map_value")
    measure_col = _column(
        "Column naming the measure (weight, pulse, ...)",
        optional,
        guess.measure_column if guess else None,
        "map_measure_column",
        blank="none: every row is the same measure",
    )
    fixed_measure = None
    if not measure_col:
        fixed_measure = _column(
            "Every row is",
            list(units.MEASURES),
            guess.measure if guess else None,
            "map_measure",
            format_func=lambda m: units.MEASURES[m].label,
        )
    unit_col = _column(
        "Unit column",
        optional,
        guess.unit_column if guess else None,
        "map_unit_column",
        blank="none: one unit for the whole file",
    )
    fixed_unit = None
    if not unit_col and fixed_measure:
        entry_units = list(units.MEASURES[fixed_measure].entry_units)
        fixed_unit = _column("Unit", entry_units, guess.unit if guess else None, "map_unit")
    value2_col = _column(
        "Diastolic column (blood pressure in two columns)",
        optional,
        guess.value2 if guess else None,
        "map_value2",
        blank="none",
    )
    return csv_import.ColumnMapping(
        date=date_col,
        value=value_col,
        measure_column=measure_col or None,
        measure=fixed_measure,
        unit_column=unit_col or None,
        unit=fixed_unit,
        value2=value2_col or None,
        time=time_col or None,
    )


def _keep_report(report: ImportReport) -> None:
    """The import's report is shown once, after the rerun."""
    st.session_state[keys.READINGS_IMPORT_REPORT] = report


def _import_file(
    user: User,
    patient_id: int,
    kind: str,
    upload: UploadedFile,
    mapping: ColumnMapping | None,
    session: Session,
) -> ImportReport:
    upload.seek(0)
    return file_import.import_file(
        user,
        patient_id,
        kind=kind,
        upload=upload,
        filename=upload.name,
        mapping=mapping,
        session=session,
        now=utcnow(),
    )


def _reading_saved(label: str, measure: str, result: AddResult) -> tuple[str, str]:
    reading = result.reading
    if result.duplicate or reading is None:  # None only for a duplicate
        return ("warning", "This reading was already recorded; nothing was added.")
    text = (
        f"Saved: {label.lower()} {units.display(measure, reading.value, reading.value2)} "
        f"on {format_datetime(reading.taken_at)}."
    )
    if result.alert_opened:
        text += (
            " This reading is outside the range your care team set, so they have been told. "
            "If you feel unwell, call the clinic or 911."
        )
    return ("success", text)


def _run_import(
    user: User,
    patient_id: int,
    kind: str,
    upload: UploadedFile,
    mapping: ColumnMapping | None = None,
) -> None:
    run_action(
        partial(_import_file, user, patient_id, kind, upload, mapping), None, after=_keep_report
    )


def render() -> None:
    user, person = record_page("My readings")
    patient_id = person.patient_id
    show_flash()

    add_tab, import_tab, recent_tab, goals_tab = st.tabs(
        ["Add a reading", "Import a file", "Recent readings", "Goals"]
    )

    # --- add a reading --------------------------------------------------------------------------
    with add_tab:
        measure = st.selectbox(
            "What did you measure?",
            list(units.MEASURES),
            format_func=lambda m: units.MEASURES[m].label,
            key="reading_measure",
        )
        spec = units.MEASURES[measure]
        local_now = to_local(utcnow())
        with st.form("reading_entry", clear_on_submit=True):
            value2 = None
            if spec.pair:
                left, right = st.columns(2)
                value = left.number_input("Systolic (top number)", value=None, key="reading_value")
                value2 = right.number_input(
                    "Diastolic (bottom number)", value=None, key="reading_value2"
                )
            else:
                value = st.number_input(md_literal(spec.label), value=None, key="reading_value")
            unit = st.selectbox("Unit", list(spec.entry_units), key="reading_unit")
            day_column, time_column = st.columns(2)
            day = day_column.date_input(
                "Date", value=local_now.date(), max_value=local_now.date(), key="reading_date"
            )
            clock = time_column.time_input(
                "Time", value=local_now.time().replace(second=0, microsecond=0), key="reading_time"
            )
            if st.form_submit_button(md_literal(person.acting("Save reading"))):
                if value is None or (spec.pair and value2 is None):
                    st.error("Please enter the number" + ("s." if spec.pair else "."))
                else:
                    run_action(
                        lambda s: entry.add_reading(
                            user,
                            patient_id,
                            session=s,
                            now=utcnow(),
                            measure=measure,
                            value=value,
                            value2=value2,
                            unit=unit,
                            taken_at=clinic_datetime(day, clock),
                        ),
                        partial(_reading_saved, spec.label, measure),
                    )

    # --- import a file --------------------------------------------------------------------------
    with import_tab:
        report = st.session_state.pop(keys.READINGS_IMPORT_REPORT, None)
        if report is not None:
            _show_report(report)
        kind = st.radio(
            "What kind of file?", list(KIND_LABELS), format_func=KIND_LABELS.get, key="import_kind"
        )
        upload = st.file_uploader(
            "File",
            type=FILE_TYPES[kind],
            key=f"import_file_{kind}",
            max_upload_size=upload_limit_mb(file_import.limits_for(kind).max_bytes),
        )
        import_label = md_literal(person.acting("Import readings"))
        st.caption(
            "Importing the same file again is safe: readings already here are not added twice."
        )
        if upload is not None and kind == CSV:
            try:
                preview = csv_import.preview(upload.getvalue())
            except PortalError as error:
                show_error(error)
                preview = None
            if preview is not None:
                st.caption("The first rows of your file")
                st.dataframe(
                    [dict(zip(preview.columns, row, strict=False)) for row in preview.rows],
                    hide_index=True,
                )
                st.subheader("Which column is which?")
                mapping = _column_mapping(preview)
                ready = render_import_preview(upload.getvalue(), mapping, preview.source_column)
                if ready and st.button(import_label, key="import_csv", type="primary"):
                    _run_import(user, patient_id, CSV, upload, mapping)
        elif upload is not None and st.button(import_label, key="import_file", type="primary"):
            with st.spinner("Reading the file..."):
                _run_import(user, patient_id, kind, upload)

    with recent_tab:
        rows = render_recent(user, patient_id, key="my_readings")
        render_reading_fixes(user, patient_id, rows)

    with goals_tab:
        render_goals(user, patient_id, key="my_goals", can_edit=True)
