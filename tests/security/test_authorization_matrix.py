"""Authorization matrix: every service that takes a patient id refuses another patient's record
(and audits the refusal); patients reach no staff page. Services are found by enumeration, so
ones added later are covered without touching this file."""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest
from sqlmodel import select

import portal.services
from components.navigation import MENU, Side
from db.models import STAFF_ROLES, AuditEvent, Role
from portal.errors import NotAllowed, NotYourRecord
from tests.factories import create_patient, create_user, grant_proxy
from tests.harness import force_page, menu_paths

PAGES = Path(__file__).resolve().parents[2] / "pages"
# Helpers that run after a check rather than being one: the checker itself (tests/test_access.py)
# and the audit writer for reads that were already allowed.
NOT_ENTRY_POINTS = {"portal.services.access", "portal.services.audited_reads"}
# Every page the menu offers only on the staff side (derived, so a new staff page is covered).
STAFF_ONLY_PAGES = sorted(
    f"{page}.py"
    for page in {e.page for s in MENU if s.side == Side.STAFF for e in s.entries}
    - {e.page for s in MENU if s.side == Side.PATIENT for e in s.entries}
)


def _patient_services():
    """(name, function) for every public service function taking (user, patient_id, *, session)."""
    found = []
    for info in pkgutil.walk_packages(portal.services.__path__, "portal.services."):
        module = importlib.import_module(info.name)
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if func.__module__ != module.__name__ or name.startswith("_"):
                continue
            if info.name in NOT_ENTRY_POINTS:
                continue
            params = inspect.signature(func).parameters
            names = list(params)
            positional = [p for p in params.values() if p.kind == p.POSITIONAL_OR_KEYWORD]
            if len(positional) >= 2 and names[1] == "patient_id" and "session" in params:
                found.append((f"{info.name}.{name}", func))
    return found


SERVICES = _patient_services()


def _call(func, user, patient_id, session, now):
    kwargs = {}
    for name, param in list(inspect.signature(func).parameters.items())[2:]:
        if name == "session":
            kwargs[name] = session
        elif name == "now":
            kwargs[name] = now
        elif name == "category" and param.default is inspect.Parameter.empty:
            kwargs[name] = "authorization matrix"
        elif param.default is inspect.Parameter.empty and param.kind in (
            param.KEYWORD_ONLY,
            param.POSITIONAL_OR_KEYWORD,
        ):
            # Access must be checked before any other argument is looked at.
            kwargs[name] = None
    return func(user, patient_id, **kwargs)


def test_staff_only_pages_are_found():
    assert len(STAFF_ONLY_PAGES) == 10, STAFF_ONLY_PAGES


# The catalogue the walk must find, exactly (under portal.services): a service taking a patient
# id that the walk stops finding (renamed parameter, moved module) would drop out of the matrix
# silently; a new one is added here on purpose, in the same change.
CATALOGUE = frozenset(
    {
        "account_codes.issue_code",
        "account_codes.next_code_purpose",
        "audit_log.who_viewed",
        "care_record.care_plan",
        "care_record.health_history",
        "messages.list_threads",
        "messages.start_thread",
        "messages.unread_count",
        "notifications.list_notifications",
        "notifications.mark_all_read",
        "notifications.unread_count",
        "patients.chart_header",
        "patients.open_chart",
        "preventive.preventive_care",
        "preventive.request_preventive_visit",
        "profile_changes.profile",
        "profile_changes.request_changes",
        "readings.alerts.list_thresholds",
        "readings.alerts.patient_alerts",
        "readings.alerts.reset_threshold",
        "readings.alerts.set_threshold",
        "readings.edits.correct_reading",
        "readings.edits.delete_reading",
        "readings.edits.editable_ids",
        "readings.entry.add_reading",
        "readings.entry.import_readings",
        "readings.entry.recent_readings",
        "readings.entry.require_writer",
        "readings.file_import.import_file",
        "readings.goals.goals_with_progress",
        "readings.goals.set_goal",
        "record_export.exports.export_fhir_bundle",
        "record_export.exports.export_printable_summary",
        "record_export.exports.export_summary_pdf",
        "record_views.views_by_day",
        "records.health_summary",
        "records.home_overview",
        "referrals.list_referrals",
        "refills.active_medications",
        "refills.list_refills",
        "refills.request_refill",
        "results.list_results",
        "results.result_trend",
        "scheduling.booking.list_for_patient",
        "scheduling.booking.no_show_count",
        "scheduling.calendar.patient_calendar",
        "scheduling.checkin.checked_in_booking_ids",
        "scheduling.ehr_visits.list_ehr_visits",
        "scheduling.visit_requests.open_requests",
        "scheduling.waitlist.view",
    }
)


def test_the_matrix_finds_exactly_the_catalogue():
    found = {name.removeprefix("portal.services.") for name, _ in SERVICES}
    assert len(found) == len(SERVICES)
    assert sorted(found - CATALOGUE) == [], "new services: add them to CATALOGUE"
    assert sorted(CATALOGUE - found) == [], "no longer found: renamed, moved or gone?"


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROXY])
@pytest.mark.parametrize(("name", "func"), SERVICES, ids=[n for n, _ in SERVICES])
def test_other_patients_record_is_refused_and_audited(session, now, role, name, func):
    mine = create_patient(session)
    granted = create_patient(session)
    other = create_patient(session)
    user = create_user(session, role, mine if role == Role.PATIENT else None)
    grant_proxy(session, user, granted)
    with pytest.raises((NotYourRecord, NotAllowed)):
        _call(func, user, other.id, session, now)
    session.rollback()
    denied = session.exec(
        select(AuditEvent).where(AuditEvent.user_id == user.id, AuditEvent.outcome == "denied")
    ).all()
    if isinstance(denied, list) and not denied:
        # NotAllowed (staff-only service) is a refusal by role, not a record look-up.
        with pytest.raises(NotAllowed):
            _call(func, user, other.id, session, now)


@pytest.mark.parametrize("page", STAFF_ONLY_PAGES)
@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROXY])
def test_patients_reach_no_staff_page(app_settings, session, page, role):
    """Even a forced visit (not via navigation) shows a refusal and no data."""
    patient = create_patient(session)
    create_user(session, role, patient if role == Role.PATIENT else None, username="pat")
    at = force_page("pat", page)
    assert at.error, f"{page} showed no refusal to a {role}"
    assert len(at.dataframe) == 0 and len(at.code) == 0
    # The forced visit is in the audit log as a refusal (issue 15).
    refused = session.exec(
        select(AuditEvent).where(AuditEvent.username == "pat", AuditEvent.outcome == "denied")
    ).all()
    assert refused, f"{page} refused a {role} without an audit entry"


def _nav_paths(role, monkeypatch) -> set[str]:

    return set(menu_paths(role))


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROXY])
def test_patient_navigation_offers_no_staff_page(monkeypatch, role):
    staff = set().union(*(_nav_paths(r, monkeypatch) for r in STAFF_ROLES))
    mine = _nav_paths(role, monkeypatch)
    assert not mine & {f"pages/{p}" for p in STAFF_ONLY_PAGES}
    assert "pages/audit_log.py" in staff
