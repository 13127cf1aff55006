"""Clinic Portal: the login gate and the router. Everything else lives in pages/ and portal/."""

import streamlit as st

from components.audit_view import page_view
from components.login import logout_button, require_login
from components.navigation import pages_for
from components.plain_text import md_literal
from ehr_sync.scheduler import PortalScheduler, start_scheduler
from portal.config import get_settings

st.set_page_config(page_title=get_settings().clinic_name, page_icon=":material/local_hospital:")


@st.cache_resource
def _periodic_jobs() -> PortalScheduler | None:
    """Once per server process (cached across reruns and sessions): sync, outbox, reminders."""
    return start_scheduler()


_periodic_jobs()
user = require_login()
# Every page of the role stays listed (no "View more" fold hiding Appointments or Security).
navigation = st.navigation(pages_for(user.role), expanded=True)
with st.sidebar:
    st.markdown(f"**{get_settings().clinic_name}**")
    st.caption(
        md_literal(
            f"Signed in as {user.display_name or user.username} ({user.role.replace('_', ' ')})"
        )
    )
    logout_button(user)
# Reruns of the same page log each read once (issue 17); a new page is a new view.
with page_view(navigation.url_path):
    navigation.run()
