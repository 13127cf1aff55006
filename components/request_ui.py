"""Small helpers the request pages share: which patient, one-shot confirmations, clinic times."""

from datetime import UTC, datetime

import streamlit as st

from components import session_keys as keys
from components.patient_context import remembered_choice
from components.plain_text import alert, md_literal
from db.models import Patient, User
from portal.config import get_settings
from portal.services.access import viewable_patients
from portal.services.unit_of_work import session_scope


def now() -> datetime:
    return datetime.now(UTC)


def local_time(value: datetime | None) -> str:
    """A stored UTC time as clinic-local text."""
    if value is None:
        return ""
    return value.astimezone(get_settings().tz).strftime("%d %b %Y, %H:%M")


def acting_patient(user: User) -> Patient:
    """The patient a patient or proxy account is acting for (the one picked elsewhere in the app,
    else their own record). Services check access again; this only chooses."""
    with session_scope() as session:
        patients = viewable_patients(user, session=session)
    if not patients:
        st.info("No patient record is linked to this account yet. Please contact the clinic.")
        st.stop()
    wanted = remembered_choice(user)
    chosen = next((p for p in patients if p.id == wanted), patients[0])
    if len(patients) > 1:
        st.caption(f"Acting for {md_literal(chosen.display_name)}")
    return chosen


def flash(kind: str, text: str) -> None:
    """Keep a message for the next run (shown after st.rerun, i.e. after the commit)."""
    st.session_state[keys.REQUESTS_FLASH] = (kind, text)


def show_flash() -> None:
    kind, text = st.session_state.pop(keys.REQUESTS_FLASH, (None, None))
    if kind is not None:
        # Confirmations name medications, files and people: shown literally.
        alert(kind, text)
