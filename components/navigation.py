"""Which pages each role sees. st.navigation only ever receives the pages of the signed-in role,
so a patient has no route to a staff page at all. The menu is derived from the permission table
(portal/permissions.py): each staff page names the action it needs.

A page is a module in pages/ whose ``render()`` is registered here; the module itself draws
nothing, so a page can only run through app.py's sign-in gate. Links between pages use ``page()``
(the same registered page), never a file path."""

import importlib
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

import streamlit as st

from db.models import STAFF_ROLES, Role
from portal.permissions import Action, allows

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


class Side(StrEnum):
    PATIENT = "patient"  # patients and caregivers: their own (or granted) record
    STAFF = "staff"


class Entry(NamedTuple):
    page: str
    # The permission-table action a role needs to see the page; None: everyone on that side
    # (a patient page, or a staff page such as Account security that every staff member has).
    needs: Action | None = None


class Section(NamedTuple):
    title: str
    side: Side
    entries: tuple[Entry, ...]


# Every page's group, in menu order, on each side. Which entries a role sees comes from the
# permission table (portal/permissions.py), so the menu and the services' checks cannot disagree.
MENU: tuple[Section, ...] = (
    Section(
        "My health",
        Side.PATIENT,
        tuple(
            Entry(p)
            for p in ("home", "health_summary", "results", "prevention", "readings", "referrals")
        ),
    ),
    Section(
        "Messages and requests",
        Side.PATIENT,
        tuple(Entry(p) for p in ("messages", "medications", "notifications")),
    ),
    Section("Visits", Side.PATIENT, (Entry("appointments"),)),
    Section(
        "Patient chart",
        Side.STAFF,
        (
            Entry("patient_lookup", Action.READ_ANY_CHART),
            Entry("health_summary", Action.READ_ANY_CHART),
            Entry("results", Action.READ_ANY_CHART),
            Entry("home_monitoring", Action.READ_ANY_CHART),
        ),
    ),
    Section(
        "Work queues",
        Side.STAFF,
        (
            Entry("dashboard", Action.VIEW_DASHBOARD),
            Entry("triage_inbox", Action.WORK_TRIAGE),
            # Nurses and the front desk review and route refills here; deciding needs more.
            Entry("refill_queue", Action.REVIEW_REFILLS),
        ),
    ),
    Section("Scheduling", Side.STAFF, (Entry("schedule", Action.BOOK_FOR_PATIENTS),)),
    Section(
        "My account",
        Side.PATIENT,
        (Entry("profile"), Entry("my_data"), Entry("who_viewed"), Entry("account_security")),
    ),
    Section(
        "Administration",
        Side.STAFF,
        (
            Entry("user_admin", Action.MANAGE_USERS),
            Entry("audit_log", Action.VIEW_AUDIT_LOG),
            Entry("sync_admin", Action.MANAGE_EHR_SYNC),
        ),
    ),
    Section(
        "Access and account",
        Side.STAFF,
        (Entry("activation", Action.ISSUE_ACCOUNT_CODES), Entry("account_security")),
    ),
)


class Daily(NamedTuple):
    title: str
    pages: tuple[str, ...]


# What each role opens every day, in one section at the top of its menu; the rest follow in
# their MENU groups. A daily page is still shown only if the role holds its MENU entry's action.
_PATIENT_DAY = Daily(
    "Every day",
    ("home", "messages", "appointments", "results", "medications", "notifications"),
)
DAILY: dict[Role, Daily] = {
    Role.PATIENT: _PATIENT_DAY,
    Role.PROXY: _PATIENT_DAY,
    Role.FRONT_DESK: Daily(
        "Front desk today", ("schedule", "triage_inbox", "patient_lookup", "activation")
    ),
    Role.NURSE: Daily(
        "Nursing today", ("triage_inbox", "refill_queue", "patient_lookup", "schedule")
    ),
    Role.CLINICIAN: Daily(
        "Clinician today", ("triage_inbox", "refill_queue", "patient_lookup", "schedule")
    ),
    # The admin's daily work is the Administration group itself, shown first.
    Role.ADMIN: Daily("Administration", ("user_admin", "audit_log", "sync_admin")),
}
# The page a role lands on after sign-in (when its menu has it).
LANDING: dict[Side, str] = {Side.PATIENT: "home", Side.STAFF: "patient_lookup"}


def page(name: str, *, default: bool = False) -> st.Page:
    """The registered page ``name`` (for st.navigation, st.page_link and st.switch_page)."""
    info = PAGES[name]
    render = importlib.import_module(f"pages.{name}").render
    return st.Page(render, title=info.title, icon=info.icon, url_path=name, default=default)


def side_of(role: Role) -> Side:
    return Side.STAFF if role in STAFF_ROLES else Side.PATIENT


def menu_for(role: Role) -> dict[str, list[str]]:
    """The page names of each navigation section for a role: its daily pages first, then the
    rest in their groups; each page only if the permission table gives the role its action."""
    side = side_of(role)
    allowed = {
        e.page
        for section in MENU
        if section.side == side
        for e in section.entries
        if e.needs is None or allows(role, e.needs)
    }
    daily = DAILY[role]
    sections: dict[str, list[str]] = {}
    first = [name for name in daily.pages if name in allowed]
    if first:
        sections[daily.title] = first
    for section in MENU:
        if section.side != side:
            continue
        rest = [e.page for e in section.entries if e.page in allowed and e.page not in first]
        if rest:
            sections.setdefault(section.title, []).extend(rest)
    return sections


def landing_page(role: Role) -> str:
    """The page a role opens on after signing in (the site's root address)."""
    names = [name for section in menu_for(role).values() for name in section]
    landing = LANDING[side_of(role)]
    return landing if landing in names else names[0]


def pages_for(role: Role) -> dict[str, list[st.Page]]:
    """Navigation sections for a role, as st.navigation takes them."""
    menu = menu_for(role)
    default = landing_page(role)
    return {
        section: [page(name, default=name == default) for name in names]
        for section, names in menu.items()
    }


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
