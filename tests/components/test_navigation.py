"""The menu per role (components/navigation.py): each role's daily pages in one section at the
top, the rest grouped, every page derived from the permission table."""

import pytest

from components.navigation import DAILY, LANDING, MENU, menu_for, side_of
from db.models import Role
from portal.permissions import allows

EXPECTED_MENUS = {
    Role.PATIENT: {
        "Every day": [
            "home",
            "messages",
            "appointments",
            "results",
            "medications",
            "notifications",
        ],
        "My health": ["health_summary", "prevention", "readings", "referrals"],
        "My account": ["profile", "my_data", "who_viewed", "account_security"],
    },
    Role.FRONT_DESK: {
        "Front desk today": ["schedule", "triage_inbox", "patient_lookup", "activation"],
        "Patient chart": ["health_summary", "results", "home_monitoring"],
        "Work queues": ["dashboard", "refill_queue"],
        "Access and account": ["account_security"],
    },
    Role.NURSE: {
        "Nursing today": ["triage_inbox", "refill_queue", "patient_lookup", "schedule"],
        "Patient chart": ["health_summary", "results", "home_monitoring"],
        "Work queues": ["dashboard"],
        "Access and account": ["activation", "account_security"],
    },
    Role.CLINICIAN: {
        "Clinician today": ["triage_inbox", "refill_queue", "patient_lookup", "schedule"],
        "Patient chart": ["health_summary", "results", "home_monitoring"],
        "Work queues": ["dashboard"],
        "Access and account": ["activation", "account_security"],
    },
    Role.ADMIN: {
        "Administration": ["user_admin", "audit_log", "sync_admin"],
        "Patient chart": ["patient_lookup", "health_summary", "results", "home_monitoring"],
        "Work queues": ["dashboard", "triage_inbox", "refill_queue"],
        "Scheduling": ["schedule"],
        "Access and account": ["activation", "account_security"],
    },
}
EXPECTED_MENUS[Role.PROXY] = EXPECTED_MENUS[Role.PATIENT]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_sees_its_daily_pages_first_and_the_rest_in_groups(role):
    assert menu_for(role) == EXPECTED_MENUS[role]


@pytest.mark.parametrize("role", list(Role))
def test_a_page_is_listed_once_and_every_daily_page_is_one_the_role_may_open(role):
    names = [name for names in menu_for(role).values() for name in names]
    assert len(names) == len(set(names))
    side_entries = {e.page: e for s in MENU if s.side == side_of(role) for e in s.entries}
    for name in DAILY[role].pages:
        entry = side_entries[name]  # a daily page must be a page of the role's side
        assert entry.needs is None or allows(role, entry.needs)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_lands_on_its_home_page(role):
    assert LANDING[side_of(role)] in [n for names in menu_for(role).values() for n in names]


def test_the_patient_essentials_are_daily_pages():
    # Issue 12.10: Appointments and Account security were behind "View more".
    assert "appointments" in menu_for(Role.PATIENT)["Every day"]
    assert "account_security" in menu_for(Role.PATIENT)["My account"]
