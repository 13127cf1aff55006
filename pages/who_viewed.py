"""Who viewed my record: the clinic staff who opened this patient's record, and when."""

from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from components.current_user import current_user
from components.patient_context import active_patient_id
from components.portal_errors import errors_as_messages
from portal.services.audit_log import who_viewed
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime


def render() -> None:
    user = current_user()
    st.title("Who viewed my record")
    st.caption(
        "Every time clinic staff open your record, the portal writes it down. This is that list. "
        "If something looks wrong, please call the clinic."
    )
    patient_id = active_patient_id(user)
    if patient_id is None:
        st.stop()
    with errors_as_messages(), session_scope() as session:
        views = who_viewed(user, patient_id, session=session, now=datetime.now(UTC))
    if not views:
        st.info("No clinic staff have opened this record through the portal.")
        st.stop()
    # Names and categories are shown in a dataframe: text there is never rendered as markdown/HTML.
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "When": format_datetime(v.at),
                    "Staff member": v.staff_name,
                    "Role": v.role,
                    "Viewed": v.what,
                }
                for v in views
            ]
        ),
        hide_index=True,
        width="stretch",
    )
