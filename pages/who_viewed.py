"""Who viewed my record: the clinic staff who looked at this record, one line per person and
day, in plain words (portal/services/record_views.py)."""

import streamlit as st

from components.patient_context import record_page
from components.portal_errors import errors_as_messages
from portal.clock import utcnow
from portal.services.record_views import views_by_day
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_time


def render() -> None:
    user, person = record_page("Who viewed my record")
    st.caption(
        "Every time clinic staff look at this record, the portal writes it down. Here is who "
        "looked, at what, and on which day. If something looks wrong, please call the clinic."
    )
    with errors_as_messages(), session_scope() as session:
        days = views_by_day(user, person.patient_id, session=session, now=utcnow())
    if not days:
        st.info("No clinic staff have looked at this record through the portal.")
        st.stop()
    whose = "your" if person.own else f"{person.first_name}'s"
    for day in days:
        with st.container(border=True):
            # Staff names are account text: drawn as plain text, never as Markdown.
            st.text(day.sentence(whose))
            if day.times == 1:
                st.caption(f"At {format_time(day.first)}")
            else:
                st.caption(
                    f"{day.times:d} times, between {format_time(day.first)} and "
                    f"{format_time(day.last)}"
                )
