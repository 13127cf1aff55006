from datetime import timedelta

from icalendar import Calendar

from portal.services.scheduling import booking, ics, video
from tests.scheduling.conftest import WED_9AM


def test_ics_parses_with_icalendar_and_carries_video_link(session, now, clinic):
    b = booking.book(
        clinic.alice_user,
        session=session,
        now=now,
        patient_id=clinic.alice.id,
        practitioner_id=clinic.smith.id,
        start=WED_9AM + timedelta(days=1),
        visit_type="annual",
        mode="video",
    )
    data = ics.visit_ics(b, practitioner_name="Dr. Smith", now=now)
    event = Calendar.from_ical(data).walk("VEVENT")[0]
    assert event.decoded("dtstart") == b.start
    assert event.decoded("dtend") == b.end
    assert str(event["summary"]) == "Annual physical with Dr. Smith"
    assert str(event["url"]) == f"https://meet.jit.si/{b.video_room}"


def test_room_names_are_unique_and_long():
    names = {video.new_room_name() for _ in range(200)}
    assert len(names) == 200
    assert all(len(n) > 20 for n in names)
