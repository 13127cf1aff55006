"""Roles follow clinical authority: every action x every role, against the permission table and
against the services that guard each action, on a real database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set). A surprise either way fails: a role refused what the policy gives it,
or allowed what the policy withholds. Every refusal is a NotAllowed with a plain message and
exactly one "denied" audit entry naming the action.

The policy below is written out by hand, apart from portal/permissions.py, so a change to the
table is a deliberate change here too. The probes are checked against the source: a service that
starts guarding an action without a probe here fails ``test_every_guarded_service_has_a_probe``.
"""

import ast
import dataclasses
import inspect
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

import portal.services
from db.models import (
    AuditEvent,
    ReadingAlertEpisode,
    Role,
    TriageItem,
    TriageStatus,
    User,
    VisitRequest,
)
from portal import permissions
from portal.errors import NotAllowed, NotFound, PortalError
from portal.permissions import Action
from portal.services import (
    account_codes,
    audit_log,
    dashboard,
    messages,
    no_show,
    patients,
    profile_changes,
    referrals,
    refills,
    reply_templates,
    sync_admin,
    triage,
    user_admin,
)
from portal.services.readings import alerts, entry, goals, units
from portal.services.scheduling import booking, checkin, provider_schedule, visit_requests
from tests.factories import create_patient, create_practitioner, create_user, grant_proxy
from tests.requests.helpers import create_medication

A = Action
PATIENT_SIDE = {Role.PATIENT, Role.PROXY}
STAFF = {Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN, Role.ADMIN}

# The policy (PRODUCT.md, "Roles follow clinical authority").
EXPECTED: dict[Action, set[Role]] = {
    A.READ_ANY_CHART: STAFF,
    A.REPLY_TO_MESSAGES: STAFF,
    A.WORK_TRIAGE: STAFF,
    A.REVIEW_REFILLS: STAFF,  # nurses and the front desk review and route refills
    A.DECIDE_REFILLS: {Role.CLINICIAN},  # only clinicians decide refills
    A.DECIDE_PROFILE_CHANGES: STAFF,
    A.BOOK_FOR_PATIENTS: STAFF,
    A.MANAGE_SCHEDULES: STAFF,
    A.ADD_READINGS: PATIENT_SIDE | {Role.NURSE, Role.CLINICIAN},
    A.SET_READING_GOALS: PATIENT_SIDE | {Role.NURSE, Role.CLINICIAN},
    A.SET_READING_THRESHOLDS: {Role.CLINICIAN},  # clinical thresholds: clinicians only
    A.ISSUE_ACCOUNT_CODES: STAFF,  # the front desk activates
    A.VIEW_DASHBOARD: STAFF,
    A.MANAGE_USERS: {Role.ADMIN},
    A.VIEW_AUDIT_LOG: {Role.ADMIN},
    A.MANAGE_EHR_SYNC: {Role.ADMIN},
}

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
WED_9AM = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_the_table_is_the_policy(action, role):
    assert permissions.allows(role, action) == (role in EXPECTED[action]), (action, role)


def test_the_policy_names_every_action_and_every_refusal_is_worded():
    assert set(EXPECTED) == set(Action)
    assert set(permissions.DESCRIPTIONS) == set(Action) == set(permissions.REFUSALS)
    # The audit entry's action column holds 32 characters.
    assert all(len(str(action)) <= 32 for action in Action)


def test_unknown_or_missing_roles_hold_nothing():
    assert not any(permissions.allows(role, a) for role in (None, "", "root") for a in Action)


# --- a small clinic with one of everything a service can act on --------------------------------


@dataclass
class World:
    patient_id: int
    users: dict[Role, User]
    staff_account: User
    refill_item: int  # for approve / deny
    refill_item_to_close: int  # for closing by a status change
    message_item: int
    profile_item: int
    episode_id: int
    practitioner_id: int
    template_id: int
    booking_id: int
    visit_request_id: int
    visit_item: int
    referral_item: int


def _build_world(session: Session) -> World:
    patient = create_patient(session, given_name="Ada", family_name="Archer")
    users = {
        role: create_user(
            session, role, patient if role == Role.PATIENT else None, username=f"who_{role}"
        )
        for role in Role
    }
    grant_proxy(session, users[Role.PROXY], patient)
    staff_account = create_user(session, Role.NURSE, username="colleague")
    me = users[Role.PATIENT]
    meds = [create_medication(session, patient, display=d) for d in ("Metformin", "Lisinopril")]
    refill_items = []
    for med in meds:
        refill = refills.request_refill(
            me, patient.id, med.id, pharmacy="Elm St", session=session, now=NOW
        )
        refill_items.append(triage._item_for(session, refills.KIND, refill.id).id)
    thread = messages.start_thread(
        me, patient.id, recipient="care_team", subject="Knee", body="It hurts",
        session=session, now=NOW,
    )  # fmt: skip
    [change] = profile_changes.request_changes(
        me, patient.id, {"emergency_contact": "Bo Archer, 555-0199"}, session=session, now=NOW
    )
    entry.add_reading(
        me, patient.id, session=session, now=NOW, measure=units.BLOOD_PRESSURE,
        value=190, value2=100, unit="mmHg", taken_at=NOW - timedelta(minutes=5),
    )  # fmt: skip
    episode = session.exec(select(ReadingAlertEpisode)).one()
    practitioner = create_practitioner(session, name="Dr. Smith")
    template = provider_schedule.add_template(
        users[Role.FRONT_DESK], session=session, now=NOW, practitioner_id=practitioner.id,
        weekday=2, start_time=time(9, 0), end_time=time(12, 0), slot_minutes=20,
        visit_types=["follow_up"], in_person=True, video=False,
    )  # fmt: skip
    visit = booking.book(
        me, session=session, now=NOW, patient_id=patient.id, practitioner_id=practitioner.id,
        start=WED_9AM, visit_type="follow_up",
    )  # fmt: skip
    wanted = visit_requests.request_visit(
        me, session=session, now=NOW, patient_id=patient.id, visit_type="follow_up",
        reason="Knee still hurts",
    )  # fmt: skip
    referral = referrals.request_referral(
        me, session=session, now=NOW, patient_id=patient.id, specialty="Cardiology",
        reason="Palpitations",
    )  # fmt: skip
    session.commit()
    return World(
        patient_id=patient.id,
        users=users,
        staff_account=staff_account,
        refill_item=refill_items[0],
        refill_item_to_close=refill_items[1],
        message_item=triage._item_for(session, messages.KIND, thread.id).id,
        profile_item=triage._item_for(session, profile_changes.KIND, change.id).id,
        episode_id=episode.id,
        practitioner_id=practitioner.id,
        template_id=template.id,
        booking_id=visit.id,
        visit_request_id=wanted.id,
        visit_item=triage._item_for(session, visit_requests.KIND, wanted.id).id,
        referral_item=triage._item_for(session, referrals.KIND, referral.id).id,
    )


# The world just after it was built, per SQLite database file (one per test process).
_SNAPSHOTS: dict[str, tuple[sqlite3.Connection, World, dict[Role, int], int]] = {}


def _fresh_world(session: Session) -> World:
    """The world for one test of the role x action matrix. On SQLite it is built by the services
    once and copied back (SQLite's backup API) for each of the other 95 tests: the same rows, in
    a millisecond instead of 50. PostgreSQL builds it every time."""
    engine = session.get_bind()
    if engine.dialect.name != "sqlite":
        return _build_world(session)
    key = str(engine.url)
    raw = engine.raw_connection()
    try:
        if key not in _SNAPSHOTS:
            world = _build_world(session)
            user_ids = {role: user.id for role, user in world.users.items()}
            snapshot = sqlite3.connect(":memory:")
            raw.driver_connection.backup(snapshot)
            _SNAPSHOTS[key] = (snapshot, world, user_ids, world.staff_account.id)
        snapshot, world, user_ids, staff_id = _SNAPSHOTS[key]
        snapshot.backup(raw.driver_connection)
    finally:
        raw.close()
    # This test's own copies of the accounts, read from the restored rows.
    users = {role: session.get(User, user_id) for role, user_id in user_ids.items()}
    staff_account = session.get(User, staff_id)
    return dataclasses.replace(world, users=users, staff_account=staff_account)


def _version(session: Session, item_id: int) -> int:
    return session.exec(select(TriageItem.version).where(TriageItem.id == item_id)).one()


# --- the probes: each service entry point that guards an action, called as a role -------------


@dataclass(frozen=True)
class Probe:
    guard: str  # "module.function" where require_permission(..., Action.X) is written
    call: Callable[[World, User, Session], object]
    # Domain errors an allowed call may still raise after the permission check (no EHR here).
    after_check: tuple[type[PortalError], ...] = ()


S = "portal.services."
PROBES: dict[Action, list[Probe]] = {
    A.READ_ANY_CHART: [
        Probe(S + "patients.search_patients", lambda w, u, s: patients.search_patients(
            u, session=s, name="Archer", now=NOW)),
        Probe(S + "patients.open_chart", lambda w, u, s: patients.open_chart(
            u, w.patient_id, session=s, now=NOW)),
        Probe(S + "patients.chart_header", lambda w, u, s: patients.chart_header(
            u, w.patient_id, session=s)),
        Probe(S + "readings.alerts.list_thresholds", lambda w, u, s: alerts.list_thresholds(
            u, w.patient_id, session=s, now=NOW)),
        Probe(S + "readings.alerts.patient_alerts", lambda w, u, s: alerts.patient_alerts(
            u, w.patient_id, session=s, now=NOW)),
    ],
    A.REPLY_TO_MESSAGES: [
        Probe(S + "reply_templates.active_templates",
              lambda w, u, s: reply_templates.active_templates(u, session=s)),
        Probe(S + "messages.thread_for_item", lambda w, u, s: messages.thread_for_item(
            u, w.message_item, session=s, now=NOW)),
        Probe(S + "messages.staff_reply", lambda w, u, s: messages.staff_reply(
            u, w.message_item, _version(s, w.message_item), body="Rest it.", session=s,
            now=NOW)),
    ],
    A.WORK_TRIAGE: [
        Probe(S + "triage.list_items", lambda w, u, s: triage.list_items(u, session=s, now=NOW)),
        Probe(S + "scheduling.visit_requests.request_for_item",
              lambda w, u, s: visit_requests.request_for_item(
                  u, w.visit_item, session=s, now=NOW)),
        Probe(S + "referrals.request_for_item", lambda w, u, s: referrals.request_for_item(
            u, w.referral_item, session=s, now=NOW)),
        Probe(S + "referrals.decide_referral", lambda w, u, s: referrals.decide_referral(
            u, w.referral_item, _version(s, w.referral_item), approve=True, session=s,
            now=NOW)),
        Probe(S + "triage.queue_counts",
              lambda w, u, s: triage.queue_counts(u, session=s, now=NOW)),
        Probe(S + "triage.get_item",
              lambda w, u, s: triage.get_item(u, w.message_item, session=s, now=NOW)),
        Probe(S + "triage.history", lambda w, u, s: triage.history(u, w.message_item, session=s)),
        Probe(S + "triage.staff_members", lambda w, u, s: triage.staff_members(u, session=s)),
        Probe(S + "triage.transition", lambda w, u, s: triage.claim(
            u, w.message_item, _version(s, w.message_item), session=s, now=NOW)),
        Probe(S + "triage.assign", lambda w, u, s: triage.assign(
            u, w.message_item, _version(s, w.message_item), w.staff_account.id, session=s,
            now=NOW)),
        Probe(S + "triage.change_status", lambda w, u, s: triage.change_status(
            u, w.message_item, _version(s, w.message_item), TriageStatus.WAITING_ON_PATIENT,
            "asked for a photo", session=s, now=NOW)),
        Probe(S + "readings.alerts.open_alert_count",
              lambda w, u, s: alerts.open_alert_count(u, session=s)),
        Probe(S + "readings.alerts.alert_detail",
              lambda w, u, s: alerts.alert_detail(u, w.episode_id, session=s, now=NOW)),
    ],
    A.REVIEW_REFILLS: [
        Probe(S + "refills.refill_context",
              lambda w, u, s: refills.refill_context(u, w.refill_item, session=s, now=NOW)),
        Probe(S + "refills.open_refill_item_ids",
              lambda w, u, s: refills.open_refill_item_ids(u, session=s)),
    ],
    A.DECIDE_REFILLS: [
        Probe(S + "refills.decide_refill", lambda w, u, s: refills.decide_refill(
            u, w.refill_item, _version(s, w.refill_item), approve=True, session=s, now=NOW)),
        # Closing a refill item takes it off the queue undecided: the prescriber's call too.
        Probe(S + "triage.change_status", lambda w, u, s: triage.change_status(
            u, w.refill_item_to_close, _version(s, w.refill_item_to_close),
            TriageStatus.CLOSED, "duplicate request", session=s, now=NOW)),
    ],
    A.DECIDE_PROFILE_CHANGES: [
        Probe(S + "profile_changes.change_for_item", lambda w, u, s: (
            profile_changes.change_for_item(u, w.profile_item, session=s))),
        Probe(S + "profile_changes.change_for_item", lambda w, u, s: (
            profile_changes.decide_change(u, w.profile_item, _version(s, w.profile_item),
                                          accept=True, session=s, now=NOW))),
    ],
    A.BOOK_FOR_PATIENTS: [
        Probe(S + "scheduling.booking.day_calendar", lambda w, u, s: booking.day_calendar(
            u, session=s, now=NOW, practitioner_id=w.practitioner_id, day_start=WED_9AM,
            day_end=WED_9AM + timedelta(hours=8))),
        Probe(S + "scheduling.booking.no_show_count",
              lambda w, u, s: booking.no_show_count(u, w.patient_id, session=s)),
        Probe(S + "scheduling.checkin.for_bookings",
              lambda w, u, s: checkin.for_bookings(u, [w.booking_id], session=s, now=NOW)),
        Probe(S + "scheduling.booking.mark", lambda w, u, s: booking.mark(
            u, w.booking_id, "arrived", session=s, now=NOW)),
        Probe(S + "scheduling.visit_requests.slots_for_request",
              lambda w, u, s: visit_requests.slots_for_request(
                  u, s.get(VisitRequest, w.visit_request_id), session=s, now=NOW)),
        # The world's patient is already booked that morning: an allowed call is refused by
        # the double-booking rule, after the permission check.
        Probe(S + "scheduling.visit_requests.book_from_request",
              lambda w, u, s: visit_requests.book_from_request(
                  u, w.visit_item, _version(s, w.visit_item), session=s, now=NOW,
                  practitioner_id=w.practitioner_id, start=WED_9AM + timedelta(minutes=20)),
              after_check=(PortalError,)),
    ],
    A.MANAGE_SCHEDULES: [
        Probe(S + "scheduling.provider_schedule.templates",
              lambda w, u, s: provider_schedule.templates(
                  u, session=s, practitioner_id=w.practitioner_id)),
        Probe(S + "scheduling.provider_schedule.add_template",
              lambda w, u, s: provider_schedule.add_template(
                  u, session=s, now=NOW, practitioner_id=w.practitioner_id, weekday=3,
                  start_time=time(13, 0), end_time=time(15, 0), slot_minutes=30,
                  visit_types=["follow_up"], in_person=True, video=False)),
        Probe(S + "scheduling.provider_schedule.exceptions",
              lambda w, u, s: provider_schedule.exceptions(
                  u, session=s, practitioner_id=w.practitioner_id, after=NOW)),
        Probe(S + "scheduling.provider_schedule.add_exception",
              lambda w, u, s: provider_schedule.add_exception(
                  u, session=s, now=NOW, practitioner_id=w.practitioner_id,
                  start=NOW + timedelta(days=9), end=NOW + timedelta(days=9, hours=2),
                  reason="training")),
        Probe(S + "scheduling.provider_schedule.remove_template",
              lambda w, u, s: provider_schedule.remove_template(
                  u, w.template_id, session=s, now=NOW)),
    ],
    A.ADD_READINGS: [
        Probe(S + "readings.entry.require_writer", lambda w, u, s: entry.add_reading(
            u, w.patient_id, session=s, now=NOW, measure=units.STEPS, value=4000,
            unit="steps", taken_at=NOW - timedelta(hours=1))),
    ],
    A.SET_READING_GOALS: [
        Probe(S + "readings.goals.set_goal", lambda w, u, s: goals.set_goal(
            u, w.patient_id, session=s, now=NOW, kind="steps_per_day", target=6000)),
        Probe(S + "readings.goals.stop_goal", lambda w, u, s: goals.stop_goal(
            u, _a_goal(w, s), session=s, now=NOW)),
    ],
    A.SET_READING_THRESHOLDS: [
        Probe(S + "readings.alerts.set_threshold", lambda w, u, s: alerts.set_threshold(
            u, w.patient_id, units.HEART_RATE, session=s, now=NOW, low=45, high=110)),
        Probe(S + "readings.alerts.reset_threshold", lambda w, u, s: alerts.reset_threshold(
            u, w.patient_id, units.HEART_RATE, session=s, now=NOW)),
    ],
    A.ISSUE_ACCOUNT_CODES: [
        Probe(S + "account_codes.issue_code",
              lambda w, u, s: account_codes.issue_code(u, w.patient_id, session=s, now=NOW)),
        Probe(S + "account_codes.next_code_purpose",
              lambda w, u, s: account_codes.next_code_purpose(
                  u, w.patient_id, session=s, now=NOW)),
    ],
    A.VIEW_DASHBOARD: [
        Probe(S + "dashboard.clinic_dashboard",
              lambda w, u, s: dashboard.clinic_dashboard(u, session=s, now=NOW)),
        Probe(S + "no_show.no_show_insight",
              lambda w, u, s: no_show.no_show_insight(u, session=s, now=NOW)),
    ],
    A.MANAGE_USERS: [
        Probe(S + "user_admin.require_admin",
              lambda w, u, s: user_admin.list_users(u, session=s, now=NOW)),
        Probe(S + "account_codes.issue_user_reset_code",
              lambda w, u, s: account_codes.issue_user_reset_code(
                  u, w.staff_account, session=s, now=NOW)),
    ],
    A.VIEW_AUDIT_LOG: [
        Probe(S + "audit_log.search",
              lambda w, u, s: audit_log.search(u, audit_log.AuditFilter(), session=s, now=NOW)),
        Probe(S + "audit_log.categories", lambda w, u, s: audit_log.categories(u, session=s)),
        Probe(S + "audit_log.export_csv", lambda w, u, s: audit_log.export_csv(
            u, audit_log.AuditFilter(), session=s, now=NOW)),
    ],
    A.MANAGE_EHR_SYNC: [
        Probe(S + "sync_admin.sync_health",
              lambda w, u, s: sync_admin.sync_health(u, session=s, now=NOW)),
        Probe(S + "sync_admin.recent_runs", lambda w, u, s: sync_admin.recent_runs(u, session=s)),
        Probe(S + "sync_admin.quarantined",
              lambda w, u, s: sync_admin.quarantined(u, session=s, now=NOW)),
        Probe(S + "sync_admin.outbox_summary",
              lambda w, u, s: sync_admin.outbox_summary(u, session=s, now=NOW)),
        Probe(S + "sync_admin.retry_quarantined",
              lambda w, u, s: sync_admin.retry_quarantined(u, 999, session=s, now=NOW),
              after_check=(NotFound,)),
        Probe(S + "sync_admin.retry_outbox_item",
              lambda w, u, s: sync_admin.retry_outbox_item(u, 999, session=s, now=NOW),
              after_check=(NotFound,)),
        Probe(S + "sync_admin.sync_now",
              lambda w, u, s: sync_admin.sync_now(u, session=s, now=NOW),
              after_check=(sync_admin.SyncNotConfigured,)),
    ],
}  # fmt: skip


def _a_goal(world: World, session: Session) -> int:
    """A goal to stop, set by the patient (so stopping is the only thing being checked)."""
    goal = goals.set_goal(
        world.users[Role.PATIENT], world.patient_id, session=session, now=NOW,
        kind="weight_at_most", target=80,
    )  # fmt: skip
    return goal.id


def _denied(session: Session, user: User) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.exec(
            select(AuditEvent).where(AuditEvent.user_id == user.id, AuditEvent.outcome == "denied")
        ).all()
    )


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("action", list(Action))
def test_every_service_guarding_an_action_answers_each_role_as_the_policy_says(
    session, action, role
):
    world = _fresh_world(session)
    user = world.users[role]
    allowed = role in EXPECTED[action]
    for probe in PROBES[action]:
        before = len(_denied(session, user))
        try:
            probe.call(world, user, session)
        except NotAllowed as refusal:
            session.rollback()
            assert not allowed, f"surprise: {role} was refused {action} by {probe.guard}"
            assert refusal.user_message == permissions.REFUSALS[action]
            denied = _denied(session, user)[before:]
            assert [(e.action, e.role) for e in denied] == [(str(action), str(role))], probe.guard
            continue
        except probe.after_check:
            session.rollback()
        assert allowed, f"surprise: {role} was allowed {action} by {probe.guard}"
        assert len(_denied(session, user)) == before, probe.guard


def test_a_refusal_survives_the_callers_rollback(session):
    world = _build_world(session)
    desk = world.users[Role.FRONT_DESK]
    version = _version(session, world.refill_item)
    with pytest.raises(NotAllowed):
        refills.decide_refill(desk, world.refill_item, version, approve=True, session=session,
                              now=NOW)  # fmt: skip
    session.rollback()
    [event] = _denied(session, desk)
    assert (event.category, event.action) == ("permission", "decide refills")
    # Nothing changed: the refill is still open, the inbox item untouched.
    assert _version(session, world.refill_item) == version


def test_a_demoted_or_deactivated_account_loses_the_action_at_once(session):
    """The database decides, not the object a page holds from before the change."""
    world = _build_world(session)
    doctor = world.users[Role.CLINICIAN]
    admin = world.users[Role.ADMIN]
    user_admin.change_role(admin, doctor.id, Role.NURSE, session=session, now=NOW)
    stale = User(**{c: getattr(doctor, c) for c in ("id", "username", "active", "password_hash")},
                 role=Role.CLINICIAN)  # fmt: skip
    with pytest.raises(NotAllowed):
        refills.decide_refill(stale, world.refill_item, _version(session, world.refill_item),
                              approve=True, session=session, now=NOW)  # fmt: skip
    session.rollback()
    nurse = world.users[Role.NURSE]
    user_admin.set_active(admin, nurse.id, False, session=session, now=NOW)
    with pytest.raises(NotAllowed):
        triage.list_items(nurse, session=session, now=NOW)


# --- the probes cover every guard in the source -----------------------------------------------


def _guard_sites() -> set[tuple[str, str]]:
    """(module.function, action) for each ``require_permission(..., Action.X, ...)`` written
    in portal/services."""
    root = Path(portal.services.__file__).parent
    sites = set()
    for path in root.rglob("*.py"):
        module = "portal.services." + ".".join(path.relative_to(root).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for call in ast.walk(node):
                if (
                    isinstance(call, ast.Call)
                    and getattr(call.func, "id", None) == "require_permission"
                    and len(call.args) >= 2
                    and isinstance(call.args[1], ast.Attribute)
                ):
                    sites.add((f"{module}.{node.name}", call.args[1].attr))
    return sites


def test_every_guarded_service_has_a_probe():
    probed = {(p.guard, action.name) for action, probes in PROBES.items() for p in probes}
    # change_status guards closing with the kind's action (refills: DECIDE_REFILLS), by name.
    dynamic = {(S + "triage.change_status", "close_needs")}
    assert _guard_sites() - probed == dynamic
    assert {a for a, probes in PROBES.items() if probes} == set(Action)


def test_the_table_counts_are_pinned():
    """A new action or role is a policy change: it must come with probes and README rows."""
    assert len(Action) == 16
    assert sum(len(p) for p in PROBES.values()) == 59
    counts = {role: len(permissions.PERMISSIONS[role]) for role in Role}
    assert counts == {
        Role.PATIENT: 2, Role.PROXY: 2, Role.FRONT_DESK: 9, Role.NURSE: 11,
        Role.CLINICIAN: 13, Role.ADMIN: 12,
    }  # fmt: skip


# The shapes role checks took before the table: a staff-only gate, an acting account's role
# compared, a clinical role named in a condition. (Which side wrote a message, or MFA for staff,
# are facts about the account, not rights, and stay with ``is_staff``.)
HAND_MADE_CHECK = re.compile(
    r"require_staff\(|\b(actor|admin|staff)\.role\s*(==|!=|in|not in)"
    r"|role\s*(==|!=|in|not in)\s*\(?Role\.(CLINICIAN|NURSE|FRONT_DESK)"
)


def test_services_do_not_check_roles_by_hand():
    """Rights come from the table: no service compares the acting role to decide."""
    root = Path(portal.services.__file__).parent
    offenders = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in root.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if HAND_MADE_CHECK.search(line)
    ]
    assert offenders == []


def test_the_hand_made_check_pattern_finds_the_old_shapes():
    for line in (
        "    require_staff(actor)",
        "    if not (actor.active and actor.role == Role.CLINICIAN):",
        "    if is_staff(actor) and actor.role not in (Role.NURSE, Role.CLINICIAN):",
        "    if not (admin.active and admin.role == Role.ADMIN):",
    ):
        assert HAND_MADE_CHECK.search(line), line


def test_probe_signatures_match_the_services():
    """The guard names point at real functions (a rename would silently unprobe one)."""
    import importlib

    for probes in PROBES.values():
        for probe in probes:
            module, name = probe.guard.rsplit(".", 1)
            assert inspect.isfunction(getattr(importlib.import_module(module), name)), probe.guard


def test_refusals_are_counted_once_per_call(session):
    world = _build_world(session)
    desk = world.users[Role.FRONT_DESK]
    for _ in range(3):
        with pytest.raises(NotAllowed):
            alerts.set_threshold(desk, world.patient_id, units.HEART_RATE, session=session,
                                 now=NOW, low=40, high=120)  # fmt: skip
        session.rollback()
    count = session.exec(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
    ).one()
    assert count == 3


def test_the_readme_states_the_table_the_code_enforces():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    start = readme.index("<!-- roles-table:start")
    body = readme[readme.index("\n", start) + 1 : readme.index("<!-- roles-table:end -->")]
    assert body.strip() == permissions.markdown_table(), (
        "README's Roles table differs from portal/permissions.py: paste markdown_table() there"
    )


# --- the menu comes from the same table -------------------------------------------------------


def test_every_page_is_in_the_menu_and_every_staff_page_names_its_action():
    from components.navigation import MENU, PAGES, Side

    entries = [(s, e) for s in MENU for e in s.entries]
    assert {e.page for _, e in entries} == set(PAGES)
    # Patient pages are the patient side's; a staff page without an action is one every staff
    # member has (Account security).
    assert all(e.needs is None for s, e in entries if s.side == Side.PATIENT)
    assert [e.page for s, e in entries if s.side == Side.STAFF and e.needs is None] == [
        "account_security"
    ]


@pytest.mark.parametrize("role", list(Role))
def test_a_role_sees_exactly_the_staff_pages_whose_action_it_holds(role):
    from components.navigation import MENU, Side, menu_for, side_of

    # A staff page is shown when it is in a staff menu (Test results is a patient page too).
    shown_pages = {name for names in menu_for(role).values() for name in names}
    shown_pages = shown_pages if side_of(role) == Side.STAFF else set()
    for section in MENU:
        for item in section.entries:
            if section.side == Side.STAFF and item.needs is not None:
                shown = item.page in shown_pages
                assert shown == (role in EXPECTED[item.needs]), (role, section.title, item)


def test_changing_the_table_changes_the_menu(monkeypatch):
    """Derived, not hand-listed: take an action from a role and its page leaves the menu."""
    from components.navigation import menu_for

    assert "refill_queue" in menu_for(Role.NURSE)["Nursing today"]
    reduced = dict(permissions.PERMISSIONS)
    reduced[Role.NURSE] = reduced[Role.NURSE] - {Action.REVIEW_REFILLS}
    monkeypatch.setattr(permissions, "PERMISSIONS", reduced)
    # Gone from the nurse's daily pages and from every other group too.
    assert menu_for(Role.NURSE)["Nursing today"] == ["triage_inbox", "patient_lookup", "schedule"]
    assert not any("refill_queue" in names for names in menu_for(Role.NURSE).values())
    assert "refill_queue" in menu_for(Role.FRONT_DESK)["Work queues"]
