"""Appointments (patients and proxies): upcoming and past visits (portal bookings and, read-only,
the visits the EHR holds), booking, changes within the clinic's policy, pre-visit check-in, the
waitlist, visit requests, calendar files and video links."""

from datetime import datetime, timedelta
from functools import partial
from typing import NamedTuple

import streamlit as st

from components import session_keys as keys
from components.actions import run_action, show_flash
from components.checkin_form import checkin_form
from components.patient_context import RecordInView, record_page
from components.plain_text import md_literal
from components.visit_card import (
    confirm_cancel,
    describe_key,
    parse_key,
    slot_key,
    slot_label,
    visit_header,
)
from components.visit_request_form import visit_request_form, visit_request_list
from db.models import User, VisitRequest, saved_id
from portal.clock import utcnow
from portal.config import get_settings
from portal.services.records import HealthSummary, health_summary
from portal.services.scheduling import (
    availability,
    booking,
    checkin,
    ehr_visits,
    ics,
    visit_requests,
    waitlist,
)
from portal.services.scheduling.booking import VisitRow
from portal.services.scheduling.calendar import PatientCalendar, patient_calendar
from portal.services.scheduling.notices import when
from portal.services.scheduling.provider_schedule import practitioners
from portal.services.scheduling.visit_types import MODE_LABELS, VISIT_TYPES, label
from portal.services.unit_of_work import session_scope


def ehr_visit_card(visit: ehr_visits.EhrVisit, *, upcoming: bool) -> None:
    with st.container(border=True):
        st.text(visit.title)  # EHR text: never markdown
        st.caption(md_literal(f"{when(visit.start)} · {visit.status_words}"))
        if visit.description and visit.description != visit.title:
            st.text(visit.description)
        if upcoming:
            st.caption("Booked by the clinic. To change this visit, please call the clinic.")


class _Visitor(NamedTuple):
    """Who is looking at whose appointments, and when: what every tab below needs."""

    user: User
    patient_id: int
    now: datetime
    names: dict[int, str]  # practitioner id -> name
    person: RecordInView  # whose record: buttons name them when acting for someone


def _open_slots(
    v: _Visitor,
    practitioner_id: int | None,
    visit_type: str | None,
    mode: str | None,
    days: int | None = None,
) -> list[availability.Slot]:
    with session_scope() as session:
        return availability.open_slots(
            session=session,
            now=v.now,
            start=v.now,
            end=v.now + timedelta(days=days or get_settings().booking_horizon_days),
            practitioner_id=practitioner_id,
            visit_type=visit_type,
            mode=mode,
            patient_id=v.patient_id,
            limit=60,
        )


def _submit_checkin(
    v: _Visitor,
    booking_id: int,
    answers: dict[str, str | None],
    contact: bool,
    medications: bool,
    allergies: bool,
) -> None:
    run_action(
        lambda s: checkin.submit(
            v.user,
            booking_id,
            session=s,
            now=v.now,
            answers={code: answer or "" for code, answer in answers.items()},
            contact_confirmed=contact,
            medications_confirmed=medications,
            allergies_confirmed=allergies,
        ),
        "Thank you, you are checked in. Your care team will see your answers.",
    )


def _cancel(v: _Visitor, booking_id: int) -> None:
    run_action(
        lambda s: booking.cancel(v.user, booking_id, session=s, now=v.now),
        "Your visit was cancelled.",
    )


def _reschedule(v: _Visitor, booking_id: int, new_start: datetime) -> None:
    run_action(
        lambda s: booking.reschedule(v.user, booking_id, session=s, now=v.now, new_start=new_start),
        "Your visit was moved.",
    )


def _accept_offer(v: _Visitor, offer_id: int) -> None:
    run_action(
        lambda s: waitlist.accept(v.user, offer_id, session=s, now=v.now),
        "Your visit is booked at the earlier time.",
    )


def _decline_offer(v: _Visitor, offer_id: int) -> None:
    run_action(
        lambda s: waitlist.decline(v.user, offer_id, session=s, now=v.now),
        "Offer declined. You stay on the waitlist.",
    )


def render() -> None:
    user, person = record_page("Appointments")
    patient_id = person.patient_id
    now = utcnow()

    show_flash()

    with session_scope() as session:
        visits = patient_calendar(user, patient_id, session=session, now=now)
        names = {saved_id(p): p.name for p in practitioners(session=session)}
        offers = waitlist.view(user, patient_id, session=session, now=now)
        requests = visit_requests.open_requests(user, patient_id, session=session, now=now)
        checked_in = checkin.checked_in_booking_ids(user, patient_id, session=session, now=now)
        needs_checkin = [r for r in visits.upcoming_bookings if r.booking.id not in checked_in]
        # What the check-in asks the patient to confirm (read only when a form will be shown).
        record = (
            health_summary(user, patient_id, session=session, now=now) if needs_checkin else None
        )
    v = _Visitor(user, patient_id, now, names, person)

    tab_upcoming, tab_book, tab_past, tab_waitlist = st.tabs(
        ["Upcoming", "Book a visit", "Past", "Waitlist and requests"]
    )
    with tab_upcoming:
        _upcoming(v, visits, checked_in, record)
    with tab_book:
        _book(v)
    with tab_past:
        _past(visits)
    with tab_waitlist:
        _waitlist(v, offers, visits.upcoming_bookings, requests)


def _upcoming(
    v: _Visitor, visits: PatientCalendar, checked_in: set[int], record: HealthSummary | None
) -> None:
    now, names = v.now, v.names
    settings = get_settings()
    if not visits.upcoming:
        st.info("You have no upcoming visits.")
    for entry in visits.upcoming:
        if isinstance(entry, ehr_visits.EhrVisit):
            ehr_visit_card(entry, upcoming=True)
            continue
        b = entry.booking
        booking_id = saved_id(b)
        with st.container(border=True):
            visit_header(entry)
            if booking_id in checked_in:
                st.caption("Checked in. Thank you.")
            elif record is not None:  # read whenever an upcoming visit is not checked in
                with st.expander("Pre-visit check-in", icon=":material/assignment:"):
                    checkin_form(
                        booking_id, b.visit_type, record, partial(_submit_checkin, v, booking_id)
                    )
            st.download_button(
                "Add to calendar (.ics)",
                ics.visit_ics(b, practitioner_name=entry.practitioner_name, now=now),
                file_name=f"visit-{b.id}.ics",
                mime="text/calendar",
                key=f"ics_{b.id}",
            )
            if not booking.can_change_online(b, now):
                st.caption(
                    f"This visit is less than {settings.cancel_cutoff_hours} hours away: "
                    "please call the clinic to cancel or reschedule."
                )
                continue
            confirm_cancel(
                entry, partial(_cancel, v, booking_id), label=v.person.acting("Cancel visit")
            )
            slots = _open_slots(v, b.practitioner_id, b.visit_type, b.mode)
            if slots:
                # Starts empty: nothing moves until the patient picks a new time.
                picked = st.selectbox(
                    "Move to",
                    slots,
                    index=None,
                    placeholder="Choose a new time",
                    format_func=lambda s: slot_label(s.start, names.get(s.practitioner_id, "")),
                    key=f"move_to_{b.id}",
                )
                if (
                    st.button(
                        md_literal(v.person.acting("Reschedule")),
                        key=f"move_{b.id}",
                        disabled=picked is None,
                    )
                    and picked is not None  # always: the button is disabled without a time
                ):
                    _reschedule(v, booking_id, picked.start)


def _book(v: _Visitor) -> None:
    names = v.names
    visit_type = st.selectbox(
        "Visit type", list(VISIT_TYPES), format_func=label, key="book_visit_type"
    )
    mode = st.radio(
        "How", list(MODE_LABELS), format_func=MODE_LABELS.get, horizontal=True, key="book_mode"
    )
    provider = st.selectbox(
        "Provider",
        [None, *names],
        format_func=lambda pid: "Any provider" if pid is None else names[pid],
        key="book_provider",
    )
    slots: dict[str, availability.Slot | None] = {
        slot_key(s.practitioner_id, s.start): s for s in _open_slots(v, provider, visit_type, mode)
    }
    chosen = st.session_state.get(keys.BOOK_SLOT)
    if chosen and chosen not in slots:
        # Keep a time that was taken since the page loaded selectable, so pressing Book says
        # so plainly instead of silently booking whatever is now first in the list.
        slots = {chosen: None, **slots}
    if not slots:
        st.info("No open times match. Join the waitlist or request a visit in the next tab.")
        return
    key = st.selectbox(
        "Open times",
        list(slots),
        format_func=lambda k: describe_key(k, names),
        key=keys.BOOK_SLOT,
    )
    if st.button(md_literal(v.person.acting("Book this time")), type="primary", key="book_button"):
        practitioner_id, start = parse_key(key)
        run_action(
            lambda s: booking.book(
                v.user,
                session=s,
                now=v.now,
                patient_id=v.patient_id,
                practitioner_id=practitioner_id,
                start=start,
                visit_type=visit_type,
                mode=mode,
            ),
            "Your visit is booked.",
        )


def _past(visits: PatientCalendar) -> None:
    if not visits.past:
        st.info("No past or cancelled visits.")
    for entry in visits.past:
        if isinstance(entry, ehr_visits.EhrVisit):
            ehr_visit_card(entry, upcoming=False)
            continue
        with st.container(border=True):
            visit_header(entry)


def _waitlist(
    v: _Visitor,
    offers: waitlist.WaitlistView,
    upcoming: list[VisitRow],
    requests: list[VisitRequest],
) -> None:
    user, now, names, patient_id = v.user, v.now, v.names, v.patient_id
    for offer in offers.offers:
        with st.container(border=True):
            st.text(
                f"Earlier time offered: {label(offer.visit_type)} with "
                f"{names.get(offer.practitioner_id, '')}"
            )
            st.caption(
                md_literal(slot_label(offer.start, "", "")) + " — held for you for a limited time"
            )
            accept, decline = st.columns(2)
            if accept.button(
                md_literal(v.person.acting("Take this time")),
                key=f"accept_{offer.id}",
                type="primary",
            ):
                _accept_offer(v, saved_id(offer))
            if decline.button("No thanks", key=f"decline_{offer.id}"):
                _decline_offer(v, saved_id(offer))
    if offers.entries:
        st.caption(f"You are on the waitlist for {len(offers.entries)} visit(s).")
    with st.form("waitlist_form"):
        st.subheader("Ask for an earlier time")
        wl_booking = st.selectbox(
            "For my visit",
            [None, *[r.booking.id for r in upcoming]],
            format_func=lambda bid: (
                "A new visit"
                if bid is None
                else next(r.title for r in upcoming if r.booking.id == bid)
            ),
        )
        wl_type = st.selectbox("Visit type", list(VISIT_TYPES), format_func=label)
        if st.form_submit_button(md_literal(v.person.acting("Join the waitlist"))):
            run_action(
                lambda s: waitlist.join(
                    user,
                    session=s,
                    now=now,
                    patient_id=patient_id,
                    visit_type=wl_type,
                    booking_id=wl_booking,
                ),
                "You are on the waitlist. We will offer you an earlier time if one frees up.",
            )
    visit_request_form(
        names,
        lambda **fields: run_action(
            lambda s: visit_requests.request_visit(
                user, session=s, now=now, patient_id=patient_id, **fields
            ),
            "Your request was sent to the clinic. We will let you know when it is booked.",
        ),
        submit=v.person.acting("Send request"),
    )
    visit_request_list(requests, names)
