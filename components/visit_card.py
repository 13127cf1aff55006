"""One visit as a bordered card: what, when, how, with the actions the caller adds inside."""

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from components import session_keys as keys
from components.plain_text import md_literal
from db.models import VisitMode, saved_id
from portal.services.scheduling.booking import VisitRow
from portal.services.scheduling.ehr_visits import EhrVisit
from portal.services.scheduling.notices import when
from portal.services.scheduling.video import meeting_url
from portal.services.scheduling.visit_types import MODE_LABELS


def slot_label(start: datetime, practitioner_name: str, mode_note: str = "") -> str:
    return f"{when(start)} · {practitioner_name}{mode_note}"


def visit_header(row: VisitRow, *, show_patient: bool = False) -> None:
    b = row.booking
    # Names are EHR text: st.text never interprets markdown in them.
    st.text(row.title + (f" · {row.patient_name}" if show_patient else ""))
    st.caption(
        md_literal(
            f"{when(b.start)} · {MODE_LABELS.get(b.mode, b.mode)} · {b.status.replace('_', ' ')}"
        )
    )
    if b.mode == VisitMode.VIDEO and b.video_room and b.status == "booked":
        st.link_button("Join video visit", meeting_url(b.video_room), icon=":material/videocam:")


def confirm_cancel(
    row: VisitRow, on_confirm: Callable[[], None], *, label: str = "Cancel visit"
) -> None:
    """ "Cancel visit" asks first; only "Yes, cancel visit" calls ``on_confirm`` (the page's
    runner, which reruns so the list shows the new state at once). ``label``: the button's
    text, naming whose visit it is when acting for someone (raw text, escaped here)."""
    b = row.booking
    asking = keys.confirming_cancel(saved_id(b))
    if not st.session_state.get(asking):
        if st.button(md_literal(label), key=f"cancel_{b.id}"):
            st.session_state[asking] = True
            st.rerun()
        return
    # The title holds EHR names: escaped, never read as markdown.
    st.warning(f"Cancel {md_literal(row.title)} on {when(b.start)}?", icon=":material/event_busy:")
    yes, no = st.columns(2)
    if no.button("Keep visit", key=f"keep_{b.id}"):
        st.session_state.pop(asking, None)
        st.rerun()
    if yes.button("Yes, cancel visit", key=f"cancel_yes_{b.id}", type="primary"):
        st.session_state.pop(asking, None)
        on_confirm()


def ehr_day_card(visit: EhrVisit) -> None:
    """An EHR appointment on the staff day: booked in the EHR, changed there."""
    with st.container(border=True):
        st.text(f"{visit.title} · {visit.patient_name}")  # EHR text: never markdown
        st.caption(md_literal(f"{when(visit.start)} · {visit.status_words} · booked in the EHR"))
        if visit.description:
            st.text(visit.description)


def slot_key(practitioner_id: int, start: datetime) -> str:
    """A stable widget value for a slot (objects would not survive the list changing)."""
    return f"{practitioner_id}|{start.isoformat()}"


def parse_key(key: str) -> tuple[int, datetime]:
    practitioner_id, start = key.split("|", 1)
    return int(practitioner_id), datetime.fromisoformat(start)


def describe_key(key: str, names: dict[int, str]) -> str:
    practitioner_id, start = parse_key(key)
    return slot_label(start, names.get(practitioner_id, ""))
