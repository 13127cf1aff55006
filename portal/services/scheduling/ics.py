"""Calendar files (.ics) for a visit, built with the icalendar library."""

from datetime import datetime

from icalendar import Calendar, Event

from db.models import Booking, VisitMode
from portal.config import get_settings
from portal.services.scheduling.video import meeting_url
from portal.services.scheduling.visit_types import label


def visit_ics(booking: Booking, *, practitioner_name: str, now: datetime) -> bytes:
    """One VEVENT. Only the visit type and provider go in: calendars sync to many places."""
    settings = get_settings()
    cal = Calendar()
    cal.add("prodid", "-//Clinic Portal//Appointments//EN")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.id}@clinic-portal")
    event.add("dtstamp", now)
    event.add("dtstart", booking.start)
    event.add("dtend", booking.end)
    event.add("summary", f"{label(booking.visit_type)} with {practitioner_name}")
    if booking.mode == VisitMode.VIDEO and booking.video_room:
        link = meeting_url(booking.video_room)
        event.add("location", link)
        event.add("url", link)
        event.add("description", f"Video visit. Join at {link}")
    else:
        event.add("location", settings.clinic_name)
        event.add("description", f"Visit at {settings.clinic_name}.")
    event.add("status", "CANCELLED" if booking.status == "cancelled" else "CONFIRMED")
    cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical
