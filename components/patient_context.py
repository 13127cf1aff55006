"""Whose record a page shows.

Patients and proxies pick among the records their account may see (sidebar). Staff look at the
chart they opened from Patient lookup, with a banner naming the patient. Names are EHR text, so
they are drawn with st.text / widget labels, never inside markdown.
"""

import streamlit as st

from components import session_keys as keys
from components.navigation import page
from components.plain_text import md_literal
from components.portal_errors import show_error
from db.models import Patient, User
from portal.errors import NotYourRecord, PortalError
from portal.services.access import is_staff, viewable_patients
from portal.services.patients import chart_header
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_date


def active_patient_id(user: User) -> int | None:
    """The patient the page should show, or None after telling the user why there is none."""
    if is_staff(user):
        return _staff_open_patient(user)
    return _chosen_patient(user)


def _patient_label(patient: Patient, user: User) -> str:
    return (
        f"{patient.display_name} (you)" if patient.id == user.patient_id else patient.display_name
    )


def _remember_choice(user_id: int) -> None:
    state = st.session_state
    state[keys.VIEWING_PATIENT_CHOICE] = (user_id, state[keys.VIEWING_PATIENT_ID])


def remembered_choice(user: User) -> int | None:
    """The record this account last chose to look at (never another account's choice left in
    the same browser session); whether it may still see it is for the caller to check."""
    state = st.session_state
    saved = state.get(keys.VIEWING_PATIENT_CHOICE)
    if saved is not None:
        owner, patient_id = saved
        return patient_id if owner == user.id else None
    return state.get(keys.VIEWING_PATIENT_ID)


def _chosen_patient(user: User) -> int | None:
    with session_scope() as session:
        patients = viewable_patients(user, session=session)
    if not patients:
        st.info("Your account is not linked to a patient record yet. Please contact the clinic.")
        return None
    labels = {p.id: _patient_label(p, user) for p in patients}
    wanted = remembered_choice(user)
    chosen = wanted if wanted in labels else patients[0].id
    if wanted is not None and wanted != chosen:
        # A record the account may not (or no longer) see: say so, and show one it may.
        st.warning(md_literal(NotYourRecord.user_message))
    st.session_state[keys.VIEWING_PATIENT_CHOICE] = (user.id, chosen)
    st.session_state[keys.VIEWING_PATIENT_ID] = chosen
    if len(patients) > 1:
        st.sidebar.selectbox(
            "Viewing the record of",
            options=list(labels),
            format_func=labels.__getitem__,
            key=keys.VIEWING_PATIENT_ID,
            on_change=_remember_choice,
            args=(user.id,),
        )
    patient_id = chosen
    if patient_id != user.patient_id:
        # Say plainly whose record this is: a caregiver must never mistake it for their own.
        st.caption("You are viewing the record of")
        st.text(labels[patient_id])
    return patient_id


def _staff_open_patient(user: User) -> int | None:
    patient_id = st.session_state.get(keys.STAFF_OPEN_PATIENT_ID)
    if patient_id is None:
        st.info("No chart is open. Find a patient in Patient lookup to open their chart.")
        st.page_link(page("patient_lookup"), label="Patient lookup", icon=":material/search:")
        return None
    try:
        with session_scope() as session:
            header = chart_header(user, patient_id, session=session)
    except PortalError as error:
        st.session_state.pop(keys.STAFF_OPEN_PATIENT_ID, None)
        show_error(error)
        return None
    with st.container(border=True):
        text_column, button_column = st.columns([4, 1], vertical_alignment="center")
        with text_column:
            st.caption("Viewing chart of (read-only)")
            born = f"born {format_date(header.birth_date)}" if header.birth_date else ""
            details = " · ".join(part for part in (born, f"MRN {header.mrn}" if header.mrn else ""))
            st.text(f"{header.name}  {details}".strip())
        if button_column.button("Back to lookup", icon=":material/search:"):
            st.switch_page(page("patient_lookup"))
    return patient_id
