"""Which pages each role sees. st.navigation only ever receives the pages of the signed-in role,
so a patient has no route to a staff page at all.

A page is a module in pages/ whose ``render()`` is registered here; the module itself draws
nothing, so a page can only run through app.py's sign-in gate. Links between pages use ``page()``
(the same registered page), never a file path."""

import importlib
from pathlib import Path
from typing import NamedTuple

import streamlit as st

from db.models import Role

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


class PageInfo(NamedTuple):
    title: str
    icon: str


# Every page, by module name (which is also its address: /messages).
PAGES: dict[str, PageInfo] = {
    "home": PageInfo("Home", ":material/home:"),
    "health_summary": PageInfo("Health summary", ":material/summarize:"),
    "results": PageInfo("Test results", ":material/lab_profile:"),
    "prevention": PageInfo("Preventive care", ":material/health_and_safety:"),
    "readings": PageInfo("My readings", ":material/monitor_heart:"),
    "messages": PageInfo("Messages", ":material/mail:"),
    "medications": PageInfo("Medications and refills", ":material/medication:"),
    "referrals": PageInfo("Referrals", ":material/forward_to_inbox:"),
    "profile": PageInfo("Profile", ":material/person:"),
    "notifications": PageInfo("Updates", ":material/notifications:"),
    "appointments": PageInfo("Appointments", ":material/event:"),
    "my_data": PageInfo("My data", ":material/download:"),
    "who_viewed": PageInfo("Who viewed my record", ":material/visibility:"),
    "account_security": PageInfo("Account security", ":material/lock:"),
    "patient_lookup": PageInfo("Patient lookup", ":material/search:"),
    "home_monitoring": PageInfo("Home monitoring", ":material/monitor_heart:"),
    "dashboard": PageInfo("Dashboard", ":material/monitoring:"),
    "triage_inbox": PageInfo("Triage inbox", ":material/inbox:"),
    "refill_queue": PageInfo("Refill queue", ":material/medication:"),
    "schedule": PageInfo("Schedule", ":material/calendar_month:"),
    "activation": PageInfo("Portal activation", ":material/key:"),
    "user_admin": PageInfo("Users and roles", ":material/manage_accounts:"),
    "audit_log": PageInfo("Audit log", ":material/policy:"),
    "sync_admin": PageInfo("EHR sync", ":material/sync:"),
}


def page(name: str, *, default: bool = False) -> st.Page:
    """The registered page ``name`` (for st.navigation, st.page_link and st.switch_page)."""
    info = PAGES[name]
    render = importlib.import_module(f"pages.{name}").render
    return st.Page(render, title=info.title, icon=info.icon, url_path=name, default=default)


def menu_for(role: Role) -> dict[str, list[str]]:
    """The page names of each navigation section for a role, default page first."""
    sections = _care_pages(role)
    sections.update(_account_pages(role))
    return sections


def pages_for(role: Role) -> dict[str, list[st.Page]]:
    """Navigation sections for a role, as st.navigation takes them."""
    menu = menu_for(role)
    default = next(iter(menu.values()))[0]
    return {
        section: [page(name, default=name == default) for name in names]
        for section, names in menu.items()
    }


def _care_pages(role: Role) -> dict[str, list[str]]:
    if role in (Role.PATIENT, Role.PROXY):
        return {
            "My health": ["home", "health_summary", "results", "prevention", "readings"],
            "Requests": ["messages", "medications", "referrals", "profile", "notifications"],
            "Visits": ["appointments"],
        }
    return {
        "Patients": ["patient_lookup", "health_summary", "results", "home_monitoring"],
        "Work queues": ["dashboard", "triage_inbox", "refill_queue"],
        "Scheduling": ["schedule"],
    }


def _account_pages(role: Role) -> dict[str, list[str]]:
    """Security pages: access log and MFA for everyone, activation for staff, audit for admins."""
    if role in (Role.PATIENT, Role.PROXY):
        return {"My account": ["my_data", "who_viewed", "account_security"]}
    sections = {"Access": ["activation", "account_security"]}
    if role == Role.ADMIN:
        sections["Administration"] = ["user_admin", "audit_log", "sync_admin"]
    return sections


def page_names() -> list[str]:
    """Every page module's name (its address), e.g. "audit_log"."""
    return sorted(p.stem for p in PAGES_DIR.glob("*.py") if p.stem != "__init__")


def hide_navigation() -> None:
    """For the sign-in screen: no menu, so the last user's pages vanish on sign-out or time-out
    (the browser keeps the previous run's menu otherwise). Every page's address still resolves,
    so reloading /messages after a time-out is not "page not found"; none of them draws anything
    (the caller draws the sign-in screen)."""
    pages = [st.Page(_nothing, title="Sign in", url_path="sign_in", default=True)]
    pages += [st.Page(_nothing, title="Sign in", url_path=name) for name in page_names()]
    st.navigation(pages, position="hidden")


def _nothing() -> None:
    """Placeholder page behind the sign-in screen."""
