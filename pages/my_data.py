"""My data (patients and proxies): download the record as a FHIR R4 file or a printable
summary, for all dates or a date range. Every download is logged in the access log."""

from datetime import date

import streamlit as st

from components.current_user import current_user, session_token
from components.navigation import page
from components.patient_context import active_patient_id
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from components.record_download import deferred
from portal.clock import utcnow
from portal.services import record_export
from portal.services.record_export import DateRange
from portal.timefmt import file_stamp, today_local


def render() -> None:
    user = current_user()
    st.title("My data")
    patient_id = active_patient_id(user)
    if patient_id is None:
        st.stop()

    st.write(
        "Download your health record to keep it, print it, or share it with another doctor or app. "
        "The FHIR file is the standard format other health systems and apps can read; the "
        "printable summary opens in your browser, where you can print it; the PDF is the same "
        "summary, ready to keep or send."
    )

    today = today_local(utcnow())
    limit = st.toggle("Only a date range", key="my_data_limit")
    period = DateRange()
    if limit:
        col_from, col_to = st.columns(2)
        start = col_from.date_input(
            "From", value=date(today.year - 1, today.month, 1), max_value=today, key="my_data_from"
        )
        end = col_to.date_input("To", value=today, max_value=today, key="my_data_to")
        with errors_as_messages():
            period = DateRange(start=start, end=end)
        st.caption(
            "Entries without a date (for example a problem with no start date) are always included."
        )

    stem = f"health-record-{file_stamp(today)}"
    token = session_token()

    row = st.container(horizontal=True)  # buttons as wide as their labels; they wrap when narrow
    row.download_button(
        "Download FHIR file (.json)",
        data=deferred(record_export.export_fhir_bundle, patient_id, period, token=token),
        file_name=f"{stem}.fhir.json",
        mime="application/fhir+json",
        icon=":material/download:",
        key="my_data_fhir",
        on_click="ignore",
    )
    row.download_button(
        "Download printable summary (.html)",
        data=deferred(record_export.export_printable_summary, patient_id, period, token=token),
        file_name=f"{stem}.html",
        mime="text/html",
        icon=":material/print:",
        key="my_data_html",
        on_click="ignore",
    )
    if record_export.pdf_available():
        row.download_button(
            "Download PDF",
            data=deferred(record_export.export_summary_pdf, patient_id, period, token=token),
            file_name=f"{stem}.pdf",
            mime="application/pdf",
            icon=":material/picture_as_pdf:",
            key="my_data_pdf",
            on_click="ignore",
        )
    else:
        row.caption(md_literal(record_export.PdfUnavailable.user_message))
    st.caption(
        f"Dates: {md_literal(period.label())}. Each download is recorded in your access log."
    )
    st.page_link(page("who_viewed"), label="Who viewed my record", icon=":material/visibility:")
