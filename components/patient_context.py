"""Whose record a page shows: the one record switcher (every patient page calls it).

Patients and caregivers get, at the top of every page that shows or acts on one record, the same
bordered block: a heading naming whose record it is and, when the account may see more than one
record, a picker to switch. Buttons that act for someone else name that person
(``RecordInView.acting``), so a caregiver never sends, books or requests for the wrong child.
Staff see the chart they opened from Patient lookup, with a banner naming the patient.

Names are EHR text: drawn with widget options (plain text) or through ``md_literal``.
"""

from dataclasses import dataclass

import streamlit as st

from components import session_keys as keys
from components.current_user import current_user
from components.navigation import page
from components.plain_text import md_literal
from components.portal_errors import show_error
from db.models import Patient, User, saved_id
from portal.errors import NotYourRecord, PortalError
from portal.services.access import is_staff, viewable_patients
from portal.services.patients import chart_header
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_date


@dataclass(frozen=True)
class RecordInView:
    """The record a patient or caregiver page shows (and acts on)."""

    patient_id: int
    name: str
    first_name: str
    own: bool  # the signed-in patient's own record

    def acting(self, action: str, word: str = "for") -> str:
        """A button label that names the person acted for: 'Request refill for Frank'
        (``word`` "about": 'Send message about Frank'); on one's own record, the plain action.
        Raw text: pass it through ``md_literal`` (the name is EHR text)."""
        return action if self.own else f"{action} {word} {self.first_name}"


def record_page(title: str) -> tuple[User, RecordInView]:
    """The top of a patient or caregiver page: who is signed in, the page's title and the record
    switcher. The page stops there (after saying why) when the account has no record yet."""
    user = current_user()
    st.title(md_literal(title))  # the pages' own words; md_literal keeps the UI scan's rule
    record = record_in_view(user)
    if record is None:
        st.stop()
    return user, record


def active_patient_id(user: User) -> int | None:
    """The patient the page should show, or None after telling the user why there is none."""
    if is_staff(user):
        return _staff_open_patient(user)
    record = record_in_view(user)
    return record.patient_id if record is not None else None


def record_in_view(user: User) -> RecordInView | None:
    """For a patient or caregiver: draw the record switcher and return the record chosen, or
    None after saying that the account has no record yet."""
    with session_scope() as session:
        patients = viewable_patients(user, session=session)
    if not patients:
        st.info("Your account is not linked to a patient record yet. Please contact the clinic.")
        return None
    by_id = {p.id: p for p in patients}
    wanted = remembered_choice(user)
    chosen = wanted if wanted in by_id else patients[0].id
    if wanted is not None and wanted != chosen:
        # A record the account may not (or no longer) see: say so, and show one it may.
        st.warning(md_literal(NotYourRecord.user_message))
    st.session_state[keys.VIEWING_PATIENT_CHOICE] = (user.id, chosen)
    st.session_state[keys.VIEWING_PATIENT_ID] = chosen
    record = _record(by_id[chosen], user)
    if len(patients) > 1 or not record.own:
        _draw_switcher(record, patients, user)
    return record


def _record(patient: Patient, user: User) -> RecordInView:
    return RecordInView(
        patient_id=saved_id(patient),
        name=patient.display_name,
        first_name=patient.given_name.strip() or patient.display_name,
        own=patient.id == user.patient_id,
    )


def _draw_switcher(record: RecordInView, patients: list[Patient], user: User) -> None:
    """The same block on every page: whose record, in a heading, and the picker beside it."""
    labels = {p.id: _patient_label(p, user) for p in patients}
    with st.container(border=True, key="record_switcher"):
        name_column, picker_column = st.columns([3, 2], vertical_alignment="center")
        with name_column:
            heading = "Your own record" if record.own else f"Record of {md_literal(record.name)}"
            st.subheader(f":material/person: {heading}", anchor=False)
            if not record.own:
                # A caregiver must never mistake someone else's record for their own.
                st.caption(
                    f"Everything on this page is about {md_literal(record.name)}; what you send "
                    "or request here is for them."
                )
        if len(patients) > 1:
            picker_column.selectbox(
                "Switch to the record of",
                options=list(labels),
                format_func=labels.__getitem__,
                key=keys.VIEWING_PATIENT_ID,
                on_change=_remember_choice,
                args=(user.id,),
            )


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


def _staff_open_patient(user: User) -> int | None:
    patient_id: int | None = st.session_state.get(keys.STAFF_OPEN_PATIENT_ID)
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
