"""Preventive care, referrals, My data and the staff dashboard driven through the real app."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from components.record_download import deferred
from db.models import (
    AuditEvent,
    AuthSession,
    ReferralRequest,
    Role,
    ServiceRequest,
    SyncRun,
    TriageItem,
    User,
)
from portal.services import record_export, sessions
from portal.services.record_export import DateRange
from tests.factories import create_user
from tests.harness import goto, menu_paths, session_token
from tests.pages.conftest import click, run_ok, table_values
from tests.requests.helpers import make_clinic

STAFF = [Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN, Role.ADMIN]


def paths(role: Role) -> list[str]:
    return menu_paths(role)


@pytest.mark.parametrize("role", [Role.PATIENT, Role.PROXY])
def test_patient_and_proxy_navigation_offers_the_new_pages(role):
    offered = paths(role)
    for page in ("pages/prevention.py", "pages/referrals.py", "pages/my_data.py"):
        assert page in offered
    assert "pages/dashboard.py" not in offered


@pytest.mark.parametrize("role", STAFF)
def test_every_staff_role_has_the_dashboard_and_not_the_patient_pages(role):
    offered = paths(role)
    assert "pages/dashboard.py" in offered
    assert "pages/prevention.py" not in offered and "pages/my_data.py" not in offered


def test_patient_requests_a_preventive_visit_in_one_click(open_page, session):
    clinic = make_clinic(session)
    clinic.alice.birth_date = date(1970, 1, 1)
    session.add(clinic.alice)
    session.commit()

    at = open_page(clinic.alice_user.username, "pages/prevention.py")
    markdown = " ".join(m.value for m in at.markdown)
    assert "Colorectal cancer screening" in markdown and "Overdue" in markdown
    assert "Pneumococcal" not in markdown  # 56 is too young

    at = click(at, "Request a visit")  # the most urgent item first
    assert at.success[0].value.startswith("Visit request sent for")
    request_item = session.exec(select(TriageItem)).one()
    assert request_item.kind == "visit_request"
    assert "Visit requested. The clinic will contact you to book." in [c.value for c in at.caption]


def test_proxy_sees_preventive_care_of_the_patient_they_act_for(open_page, session):
    clinic = make_clinic(session)
    at = open_page(clinic.proxy.username, "pages/prevention.py")
    assert at.title[0].value == "Preventive care"
    assert any("Flu vaccine" in m.value for m in at.markdown)
    assert not at.error


def test_patient_sees_referrals_and_sends_a_request(open_page, session):
    clinic = make_clinic(session)
    session.add(
        ServiceRequest(
            fhir_id="sr-1",
            patient_id=clinic.alice.id,
            specialty="Cardiology",
            status="active",
            reason="<b>Palpitations</b>",
            authored_on=datetime(2026, 10, 1, 14, tzinfo=UTC),
        )
    )
    session.commit()

    at = open_page(clinic.alice_user.username, "pages/referrals.py")
    cells = table_values(at)
    assert "Cardiology" in cells and "Sent" in cells
    assert "<b>Palpitations</b>" in cells  # as plain text in a table cell

    # Sending without a specialty is refused in plain words and stores nothing.
    at.text_area(key="ref_reason").set_value("Skin rash")
    at = click(at, "Send request")
    assert [e.value for e in at.error] == ["Please choose a specialty."]
    assert session.exec(select(ReferralRequest)).all() == []

    at.selectbox(key="ref_specialty").set_value("Dermatology")
    at.text_area(key="ref_reason").set_value("Skin rash")
    at = click(at, "Send request")
    assert [s.value for s in at.success] == ["Your referral request was sent to the clinic."]
    assert "Dermatology" in table_values(at)
    assert session.exec(select(TriageItem.kind)).all() == ["referral_request"]


def test_my_data_offers_both_downloads_and_a_date_range(open_page, session):
    clinic = make_clinic(session)
    at = open_page(clinic.alice_user.username, "pages/my_data.py")
    assert at.title[0].value == "My data"
    assert "Dates: all dates." in " ".join(c.value for c in at.caption)
    at.toggle(key="my_data_limit").set_value(True)
    at = run_ok(at)
    at.date_input(key="my_data_from").set_value(date(2026, 1, 1))
    at.date_input(key="my_data_to").set_value(date(2026, 3, 31))
    at = run_ok(at)
    assert "Dates: 1 Jan 2026 to 31 Mar 2026." in " ".join(c.value for c in at.caption)
    # Nothing is exported (or audited) until a download button is clicked.
    exports = select(AuditEvent).where(AuditEvent.category == record_export.EXPORTED_RECORD)
    assert session.exec(exports).all() == []


def test_my_data_start_after_end_is_explained(open_page, session):
    clinic = make_clinic(session)
    at = open_page(clinic.alice_user.username, "pages/my_data.py")
    at.toggle(key="my_data_limit").set_value(True)
    at = run_ok(at)
    at.date_input(key="my_data_from").set_value(date(2026, 3, 1))
    at.date_input(key="my_data_to").set_value(date(2026, 2, 1))
    at = run_ok(at)
    assert [e.value for e in at.error] == ["The start date must be on or before the end date."]


def test_download_callable_exports_and_audits_on_click(engine, session):
    clinic = make_clinic(session)
    produce = deferred(
        record_export.export_fhir_bundle,
        clinic.alice.id,
        DateRange(start=date(2026, 1, 1)),
        token=session_token(clinic.proxy.username),
    )
    content = produce()
    assert b'"resourceType": "Bundle"' in content
    event = session.exec(
        select(AuditEvent).where(AuditEvent.category == record_export.EXPORTED_RECORD)
    ).one()
    assert (event.user_id, event.patient_id) == (clinic.proxy.id, clinic.alice.id)


@pytest.mark.parametrize("how", ["password changed", "signed out", "idle"])
def test_download_from_a_tab_whose_session_ended_gives_nothing(engine, session, how):
    """The button was drawn while signed in; the click comes after the session ended."""
    clinic = make_clinic(session)
    token = session_token(clinic.proxy.username)
    produce = deferred(record_export.export_fhir_bundle, clinic.alice.id, DateRange(), token=token)
    now = datetime.now(UTC)
    account = session.get(User, clinic.proxy.id)
    if how == "password changed":
        sessions.revoke_all(account, session=session, now=now, reason="password changed")
        session.commit()
    elif how == "signed out":
        sessions.sign_out(token, session=session, now=now)
    else:
        row = session.exec(select(AuthSession).where(AuthSession.user_id == account.id)).one()
        row.last_seen_at = now - timedelta(hours=3)
        session.add(row)
        session.commit()
    with pytest.raises(sessions.SessionEnded):
        produce()
    exported = session.exec(
        select(AuditEvent).where(AuditEvent.category == record_export.EXPORTED_RECORD)
    ).all()
    assert exported == []


@pytest.mark.parametrize("role", STAFF)
def test_staff_dashboard_opens_for_every_staff_role(open_page, session, role):
    clinic = make_clinic(session)
    staff = create_user(session, role, username=f"staff-{role}")
    session.add(
        SyncRun(
            status="failed",
            started_at=datetime.now(UTC) - timedelta(hours=1),
            finished_at=datetime.now(UTC) - timedelta(minutes=59),
            errors="Patient: server said 503",
        )
    )
    session.commit()
    assert clinic.alice.id

    at = open_page(staff.username, "pages/dashboard.py")

    assert at.title[0].value == "Clinic dashboard"
    labels = [m.label for m in at.metric]
    assert labels[:4] == ["Median first response", "SLA breaches", "Portal accounts", "Open alerts"]
    assert "Model AUC (held out)" in labels
    assert any(i.value.startswith("Not enough visit history yet") for i in at.info)
    assert at.metric[2].value == "2 / 2"
    assert "Portal accounts: 100% of patients" in " ".join(c.value for c in at.caption)
    assert any(e.value.startswith("Last run: Failed") for e in at.error)
    assert "Patient: server said 503" in [t.value for t in at.text]


def test_dashboard_with_requests_draws_charts(open_page, session):
    from portal.services.scheduling import visit_requests

    clinic = make_clinic(session)
    visit_requests.request_visit(
        clinic.alice_user,
        session=session,
        now=datetime.now(UTC) - timedelta(days=10),
        patient_id=clinic.alice.id,
        visit_type="annual",
        reason="Yearly check-up",
    )
    at = open_page(clinic.nurse.username, "pages/dashboard.py")
    assert not at.exception
    assert "No requests in this period." not in [i.value for i in at.info]
    assert at.metric[1].value == "1 / 1"  # unanswered and past due


def test_patient_cannot_open_the_dashboard_page(open_page, session):
    clinic = make_clinic(session)
    at = open_page(clinic.alice_user.username)
    # A patient's navigation has no route to the page at all.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        goto(at, "pages/dashboard.py")


def test_dashboard_lists_upcoming_visits_by_no_show_risk_with_reasons(open_page, session):
    from tests.care.test_no_show import add_booking, make_history

    clinic = make_clinic(session)
    now = datetime.now(UTC)
    doctor, reliable, flaky = make_history(session, now=now)
    add_booking(session, flaky[0], doctor, now + timedelta(days=1), "booked", lead_days=45)
    add_booking(session, reliable[0], doctor, now + timedelta(days=2), "booked", lead_days=1)
    session.commit()

    at = open_page(clinic.doctor.username, "pages/dashboard.py")

    auc = next(m for m in at.metric if m.label == "Model AUC (held out)")
    assert float(auc.value) > 0.5
    risk = next(f.value for f in at.dataframe if "Main reasons" in f.value.columns)
    assert list(risk["Patient"]) == [flaky[0].display_name, reliable[0].display_name]
    assert risk["Flag"][0] == "⚠ High"
    assert "earlier no-show" in risk["Main reasons"][0]


def test_staff_calendar_flags_a_high_risk_visit_that_got_the_extra_reminder(open_page, session):
    from db.models import ReminderSent
    from portal.config import get_settings
    from portal.services import no_show
    from tests.care.test_no_show import add_booking
    from tests.factories import create_practitioner

    clinic = make_clinic(session)
    doctor = create_practitioner(session, name="Dr. Risk")
    start = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    risky = add_booking(session, clinic.alice, doctor, start, "booked")
    add_booking(session, clinic.bob, doctor, start + timedelta(hours=1), "booked")
    session.add(ReminderSent(booking_id=risky.id, offset_hours=no_show.EXTRA_REMINDER_OFFSET))
    session.commit()

    at = open_page(clinic.nurse.username, "pages/schedule.py")
    at.selectbox(key="schedule_provider").set_value(doctor.id)
    at.date_input(key="schedule_day").set_value(start.astimezone(get_settings().tz).date())
    at = run_ok(at)

    flags = [w.value for w in at.warning if w.value.startswith("High no-show risk")]
    assert flags == ["High no-show risk: an extra reminder was sent. Consider a call."]


def test_home_lists_care_that_is_due_and_links_to_preventive_care(open_page, session):
    clinic = make_clinic(session)
    clinic.alice.birth_date = date(1970, 1, 1)
    session.add(clinic.alice)
    session.commit()

    at = open_page(clinic.alice_user.username)

    assert "Care that is due" in [s.value for s in at.subheader]
    due = " ".join(t.value for t in at.text)
    assert "Colorectal cancer screening (overdue)" in due
    assert "Pneumococcal" not in due


def test_dashboard_trains_the_no_show_model_once_not_twice_per_rerun(
    open_page, session, monkeypatch
):
    """Issue 17: the model is trained once a day (cached per history version), not on every run."""
    import streamlit as st

    from portal.services import no_show
    from tests.care.test_no_show import make_history

    st.cache_resource.clear()
    clinic = make_clinic(session)
    make_history(session, now=datetime.now(UTC) - timedelta(days=1))
    calls = []
    real_train = no_show.train
    monkeypatch.setattr(no_show, "train", lambda visits: calls.append(1) or real_train(visits))

    at = open_page(clinic.doctor.username, "pages/dashboard.py")
    assert len(calls) == 2  # the model and its held-out check, once
    run_ok(at)
    open_page(clinic.nurse.username, "pages/dashboard.py")  # another user, the same day
    assert len(calls) == 2
    auc = next(m for m in at.metric if m.label == "Model AUC (held out)")
    assert float(auc.value) > 0.5
