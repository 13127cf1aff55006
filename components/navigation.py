"""Which pages each role sees. st.navigation only ever receives the pages of the signed-in role,
so a patient has no route to a staff page at all."""

from pathlib import Path

import streamlit as st

from db.models import Role

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
HOME = "home.py"


def _page(path: str, title: str, icon: str, *, default: bool = False) -> st.Page:
    return st.Page(path, title=title, icon=icon, default=default)


def pages_for(role: Role) -> dict[str, list[st.Page]]:
    """Navigation sections for a role, default page first."""
    sections = _care_pages(role)
    sections.update(_account_pages(role))
    return sections


def _care_pages(role: Role) -> dict[str, list[st.Page]]:
    if role in (Role.PATIENT, Role.PROXY):
        return {
            "My health": [
                _page("pages/home.py", "Home", ":material/home:", default=True),
                _page("pages/health_summary.py", "Health summary", ":material/summarize:"),
                _page("pages/results.py", "Test results", ":material/lab_profile:"),
                _page("pages/prevention.py", "Preventive care", ":material/health_and_safety:"),
                _page("pages/readings.py", "My readings", ":material/monitor_heart:"),
            ],
            "Requests": [
                _page("pages/messages.py", "Messages", ":material/mail:"),
                _page("pages/medications.py", "Medications and refills", ":material/medication:"),
                _page("pages/referrals.py", "Referrals", ":material/forward_to_inbox:"),
                _page("pages/profile.py", "Profile", ":material/person:"),
                _page("pages/notifications.py", "Updates", ":material/notifications:"),
            ],
            "Visits": [
                _page("pages/appointments.py", "Appointments", ":material/event:"),
            ],
        }
    return {
        "Patients": [
            _page("pages/patient_lookup.py", "Patient lookup", ":material/search:", default=True),
            _page("pages/health_summary.py", "Health summary", ":material/summarize:"),
            _page("pages/results.py", "Test results", ":material/lab_profile:"),
            _page("pages/home_monitoring.py", "Home monitoring", ":material/monitor_heart:"),
        ],
        "Work queues": [
            _page("pages/dashboard.py", "Dashboard", ":material/monitoring:"),
            _page("pages/triage_inbox.py", "Triage inbox", ":material/inbox:"),
            _page("pages/refill_queue.py", "Refill queue", ":material/medication:"),
        ],
        "Scheduling": [
            _page("pages/schedule.py", "Schedule", ":material/calendar_month:"),
        ],
    }


def _account_pages(role: Role) -> dict[str, list[st.Page]]:
    """Security pages: access log and MFA for everyone, activation for staff, audit for admins."""
    security = _page("pages/account_security.py", "Account security", ":material/lock:")
    if role in (Role.PATIENT, Role.PROXY):
        who = _page("pages/who_viewed.py", "Who viewed my record", ":material/visibility:")
        my_data = _page("pages/my_data.py", "My data", ":material/download:")
        return {"My account": [my_data, who, security]}
    sections = {
        "Access": [
            _page("pages/activation.py", "Portal activation", ":material/key:"),
            security,
        ]
    }
    if role == Role.ADMIN:
        sections["Administration"] = [
            _page("pages/user_admin.py", "Users and roles", ":material/manage_accounts:"),
            _page("pages/audit_log.py", "Audit log", ":material/policy:"),
            _page("pages/sync_admin.py", "EHR sync", ":material/sync:"),
        ]
    return sections


def hide_navigation() -> None:
    """For the sign-in screen: no menu, so the last user's pages vanish on sign-out or time-out
    (the browser keeps the previous run's menu otherwise). Every page's address still resolves,
    so reloading /messages after a time-out is not "page not found"; nothing here runs a page."""
    # Absolute paths: the entry script is app.py, or a test harness elsewhere.
    paths = sorted(p for p in PAGES_DIR.glob("*.py") if p.name not in ("__init__.py", HOME))
    pages = [st.Page(PAGES_DIR / HOME, default=True), *(st.Page(p) for p in paths)]
    st.navigation(pages, position="hidden")
