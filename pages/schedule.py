"""Schedule (staff): the day's calendar per provider with each visit's pre-visit check-in,
booking for a patient, arrived / no-show, weekly templates and time off."""

from datetime import UTC, datetime, time, timedelta
from functools import partial

import streamlit as st

from components.actions import run_action, show_flash
from components.checkin_form import checkin_answers
from components.current_user import current_user
from components.permission_gate import require_page_permission
from components.portal_errors import show_error
from components.visit_card import confirm_cancel, ehr_day_card, slot_label, visit_header
from db.models import BookingStatus, User, saved_id
from portal.clock import utcnow
from portal.config import get_settings
from portal.errors import PortalError
from portal.permissions import Action
from portal.services import no_show
from portal.services.patients import search_patients
from portal.services.scheduling import availability, booking, checkin, provider_schedule
from portal.services.scheduling.booking import VisitRow
from portal.services.scheduling.calendar import practitioner_day
from portal.services.scheduling.visit_types import MODE_LABELS, VISIT_TYPES, label
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_clock

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def _mark(user: User, booking_id: int, status: str, now: datetime, said: str) -> None:
    run_action(lambda s: booking.mark(user, booking_id, status, session=s, now=now), said)


def _cancel(user: User, booking_id: int, now: datetime) -> None:
    run_action(
        lambda s: booking.cancel(user, booking_id, session=s, now=now),
        "Visit cancelled; the slot was offered to the waitlist.",
    )


def _remove_template(user: User, template_id: int, now: datetime) -> None:
    run_action(
        lambda s: provider_schedule.remove_template(user, template_id, session=s, now=now),
        "Template removed.",
    )


def render() -> None:
    st.title("Schedule")
    user = current_user()
    require_page_permission(user, Action.BOOK_FOR_PATIENTS)
    now = utcnow()
    tz = get_settings().tz

    show_flash()

    with session_scope() as session:
        names = {saved_id(p): p.name for p in provider_schedule.practitioners(session=session)}
    if not names:
        st.info("No providers yet. They arrive with the EHR sync.")
        st.stop()

    col_provider, col_day = st.columns(2)
    provider_id = col_provider.selectbox(
        "Provider", list(names), format_func=lambda pid: names[pid], key="schedule_provider"
    )
    day = col_day.date_input("Day", value=now.astimezone(tz).date(), key="schedule_day")
    day_start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)

    tab_day, tab_book, tab_templates = st.tabs(
        ["Day", "Book for a patient", "Templates and time off"]
    )

    with tab_day:
        with session_scope() as session:
            entries = practitioner_day(
                user,
                session=session,
                now=now,
                practitioner_id=provider_id,
                day_start=day_start,
                day_end=day_start + timedelta(days=1),
            )
            rows = [e for e in entries if isinstance(e, VisitRow)]
            checkins = checkin.for_bookings(
                user, [saved_id(r.booking) for r in rows], session=session, now=now
            )
            high_risk = no_show.high_risk_bookings(
                [saved_id(r.booking) for r in rows], session=session
            )
        if not entries:
            st.info("No visits booked on this day.")
        for row in entries:
            if not isinstance(row, VisitRow):
                ehr_day_card(row)
                continue
            b = row.booking
            with st.container(border=True):
                visit_header(row, show_patient=True)
                if b.id in high_risk and b.status == BookingStatus.BOOKED:
                    st.warning(
                        "High no-show risk: an extra reminder was sent. Consider a call.",
                        icon=":material/warning:",
                    )
                if b.id in checkins:
                    with st.expander("Pre-visit check-in answers", icon=":material/assignment:"):
                        checkin_answers(*checkins[b.id])
                elif b.status == BookingStatus.BOOKED:
                    st.caption("Not checked in yet.")
                if b.status != BookingStatus.BOOKED:
                    continue
                arrived, no_show_col = st.columns(2)
                if arrived.button("Arrived", key=f"arrived_{b.id}"):
                    _mark(user, saved_id(b), "arrived", now, "Marked arrived.")
                if no_show_col.button("No-show", key=f"noshow_{b.id}"):
                    _mark(user, saved_id(b), "no_show", now, "Marked no-show.")
                confirm_cancel(row, partial(_cancel, user, saved_id(b), now))

    with tab_book:
        query = st.text_input("Find patient (name or MRN)", key="schedule_patient_query")
        patient_id = None
        if query.strip():
            try:
                with session_scope() as session:
                    by_mrn = search_patients(user, session=session, mrn=query, now=now).matches
                    found = (
                        by_mrn
                        or search_patients(user, session=session, name=query, now=now).matches
                    )
            except PortalError as error:
                show_error(error)
                found = []
            if found:
                patient_id = st.selectbox(
                    "Patient",
                    [m.patient_id for m in found],
                    format_func=lambda pid: next(
                        f"{m.name} · MRN {m.mrn}" for m in found if m.patient_id == pid
                    ),
                    key="schedule_patient",
                )
            else:
                st.info("No patient matches.")
        if patient_id is not None:
            with session_scope() as session:
                missed = booking.no_show_count(user, patient_id, session=session)
            if missed:
                st.warning(f"This patient has missed {missed:,} visit(s) (no-show).")
            else:
                st.caption("No missed visits.")
            visit_type = st.selectbox(
                "Visit type", list(VISIT_TYPES), format_func=label, key="staff_visit_type"
            )
            mode = st.radio(
                "How",
                list(MODE_LABELS),
                format_func=MODE_LABELS.get,
                horizontal=True,
                key="staff_mode",
            )
            with session_scope() as session:
                slots = availability.open_slots(
                    session=session,
                    now=now,
                    start=day_start,
                    end=day_start + timedelta(days=14),
                    practitioner_id=provider_id,
                    visit_type=visit_type,
                    mode=mode,
                    patient_id=patient_id,
                )
            if not slots:
                st.info("No open times for this provider and visit type in the next two weeks.")
            else:
                slot = st.selectbox(
                    "Open times",
                    slots,
                    key="staff_slot",
                    format_func=lambda s: slot_label(s.start, names[provider_id]),
                )
                if st.button("Book", type="primary", key="staff_book"):
                    run_action(
                        lambda s: booking.book(
                            user,
                            session=s,
                            now=now,
                            patient_id=patient_id,
                            practitioner_id=provider_id,
                            start=slot.start,
                            visit_type=visit_type,
                            mode=mode,
                        ),
                        "Visit booked.",
                    )

    with tab_templates:
        with session_scope() as session:
            templates = provider_schedule.templates(
                user, session=session, practitioner_id=provider_id
            )
            blocked = provider_schedule.exceptions(
                user, session=session, practitioner_id=provider_id, after=now
            )
        for t in [t for t in templates if t.active]:
            line, remove = st.columns([5, 1])
            how = " + ".join(m for m, ok in (("in person", t.in_person), ("video", t.video)) if ok)
            line.text(
                f"{WEEKDAYS[t.weekday]} {format_clock(t.start_time)}-{format_clock(t.end_time)} · "
                f"{t.slot_minutes} min · {t.visit_types} · {how}"
            )
            if remove.button("Remove", key=f"rm_template_{t.id}"):
                _remove_template(user, saved_id(t), now)
        with st.form("template_form"):
            st.subheader("Add weekly hours")
            weekday = st.selectbox("Weekday", range(7), format_func=WEEKDAYS.__getitem__)
            start_t = st.time_input("From", value=time(9, 0))
            end_t = st.time_input("To", value=time(12, 0))
            minutes = st.number_input("Slot length (minutes)", 5, 240, 20, step=5)
            types = st.multiselect(
                "Visit types", list(VISIT_TYPES), default=["follow_up"], format_func=label
            )
            in_person = st.checkbox("In person", value=True)
            video = st.checkbox("Video")
            if st.form_submit_button("Add hours"):
                run_action(
                    lambda s: provider_schedule.add_template(
                        user,
                        session=s,
                        now=now,
                        practitioner_id=provider_id,
                        weekday=weekday,
                        start_time=start_t,
                        end_time=end_t,
                        slot_minutes=int(minutes),
                        visit_types=types,
                        in_person=in_person,
                        video=video,
                    ),
                    "Hours added.",
                )
        for e in blocked:
            who = "Whole clinic" if e.practitioner_id is None else names.get(e.practitioner_id, "")
            st.text(f"{who}: {slot_label(e.start, '')}– {slot_label(e.end, '')} {e.reason}")
        with st.form("exception_form"):
            st.subheader("Add time off or a holiday")
            first = st.date_input("From day", value=day)
            last = st.date_input("To day (inclusive)", value=day)
            whole_clinic = st.checkbox("Whole clinic (holiday)")
            reason = st.text_input("Reason", max_chars=200)
            if st.form_submit_button("Add time off"):
                run_action(
                    lambda s: provider_schedule.add_exception(
                        user,
                        session=s,
                        now=now,
                        practitioner_id=None if whole_clinic else provider_id,
                        start=datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC),
                        end=datetime.combine(
                            last + timedelta(days=1), time(0), tzinfo=tz
                        ).astimezone(UTC),
                        reason=reason,
                    ),
                    "Time off added.",
                )
