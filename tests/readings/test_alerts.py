from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import (
    ReadingAlertEpisode,
    ReadingThreshold,
    TriageEvent,
    TriageItem,
    TriageStatus,
)
from portal.errors import InvalidInput, NotAllowed
from portal.services import triage
from portal.services.readings import alerts, entry, units
from portal.services.readings.entry import ReadingInput
from tests.readings.helpers import make_people


def _bp(people, session, now, systolic, diastolic, minutes_ago):
    return entry.add_reading(
        people.alice_user,
        people.alice.id,
        session=session,
        now=now,
        measure=units.BLOOD_PRESSURE,
        value=systolic,
        value2=diastolic,
        unit="mmHg",
        taken_at=now - timedelta(minutes=minutes_ago),
    )


def _items(session):
    session.expire_all()
    return session.exec(
        select(TriageItem).where(TriageItem.kind == alerts.KIND).order_by(TriageItem.id)
    ).all()


def _episodes(session):
    session.expire_all()
    return session.exec(select(ReadingAlertEpisode).order_by(ReadingAlertEpisode.id)).all()


def test_reading_alert_is_a_registered_inbox_kind():
    assert triage.kinds()[alerts.KIND].label == "Reading alert"


def test_many_high_readings_make_one_inbox_item_per_episode(session, now):
    people = make_people(session)
    results = [_bp(people, session, now, 182 + n, 95, 50 - n) for n in range(3)]
    assert [r.alert_opened for r in results] == [True, False, False]
    [item] = _items(session)
    assert (item.patient_id, item.priority, item.status) == (people.alice.id, 1, "new")
    assert item.summary == "Blood pressure 182/95 mmHg (above 160)"
    [episode] = _episodes(session)
    assert (episode.out_count, episode.closed_at) == (3, None)
    assert episode.last_out_reading_id == results[2].reading.id


def test_reading_back_in_range_ends_the_episode_and_the_next_high_one_starts_another(session, now):
    people = make_people(session)
    _bp(people, session, now, 182, 95, 50)
    _bp(people, session, now, 128, 80, 40)
    [episode] = _episodes(session)
    assert (episode.closed_reason, episode.closed_at) == (alerts.BACK_IN_RANGE, now)
    [item] = _items(session)
    # The item stays for staff to see, marked, with the event in its history.
    assert item.status == TriageStatus.NEW
    assert item.summary.startswith("Back in range · Blood pressure 182/95")
    events = session.exec(select(TriageEvent).where(TriageEvent.item_id == item.id)).all()
    assert [e.action for e in events] == ["created", "back_in_range"]

    assert _bp(people, session, now, 85, 55, 30).alert_opened  # low this time
    assert len(_episodes(session)) == 2
    assert [i.summary for i in _items(session)][1] == "Blood pressure 85/55 mmHg (below 90)"


def test_an_older_normal_reading_does_not_end_a_newer_episode(session, now):
    people = make_people(session)
    _bp(people, session, now, 182, 95, 10)
    _bp(people, session, now, 120, 80, 60)  # taken before the high one, entered after it
    [episode] = _episodes(session)
    assert episode.closed_at is None


def test_staff_closing_the_item_resolves_the_episode(session, now):
    people = make_people(session)
    _bp(people, session, now, 182, 95, 50)
    [item] = _items(session)
    triage.change_status(
        people.nurse,
        item.id,
        item.version,
        "closed",
        "Called her; recheck",
        session=session,
        now=now,
    )
    [episode] = _episodes(session)
    assert episode.closed_reason == alerts.RESOLVED
    # Still high afterwards: a new episode, a new item.
    assert _bp(people, session, now, 185, 96, 20).alert_opened
    assert len(_items(session)) == 2


def test_readings_older_than_a_week_raise_no_alert(session, now):
    people = make_people(session)
    result = _bp(people, session, now, 190, 100, int(timedelta(days=8).total_seconds() // 60))
    assert not result.alert_opened
    assert _items(session) == []


def test_a_whole_import_of_high_readings_opens_one_item(session, now):
    people = make_people(session)
    items = [
        ReadingInput(units.GLUCOSE, 300 + n, "mg/dL", now - timedelta(hours=n)) for n in range(20)
    ]
    report = entry.import_readings(
        people.alice_user,
        people.alice.id,
        items,
        session=session,
        now=now,
        source="csv",
        label="meter.csv",
    )
    assert (report.added, report.alerts_opened) == (20, 1)
    [episode] = _episodes(session)
    assert episode.out_count == 20
    # The episode started at the oldest reading and its latest is the newest one.
    assert episode.last_out_at == now.replace(microsecond=0)
    assert len(_items(session)) == 1


def test_weight_has_no_default_alert_but_a_clinician_can_set_one(session, now):
    people = make_people(session)

    def weigh(kg, minutes_ago):
        return entry.add_reading(
            people.alice_user,
            people.alice.id,
            session=session,
            now=now,
            measure=units.WEIGHT,
            value=kg,
            unit="kg",
            taken_at=now - timedelta(minutes=minutes_ago),
        )

    assert not weigh(95, 60).alert_opened
    alerts.set_threshold(
        people.doctor, people.alice.id, units.WEIGHT, session=session, now=now, high=92
    )
    assert weigh(95.5, 30).alert_opened


def test_per_patient_override_replaces_the_default(session, now):
    people = make_people(session)
    alerts.set_threshold(
        people.doctor, people.alice.id, units.GLUCOSE, session=session, now=now, low=80, high=180
    )
    thresholds = alerts.effective_thresholds(people.alice.id, session=session)
    assert thresholds[units.GLUCOSE] == alerts.Threshold(low=80, high=180)
    assert alerts.effective_thresholds(people.bob.id, session=session)[units.GLUCOSE].high == 250
    rows = {
        r.measure: r
        for r in alerts.list_thresholds(people.nurse, people.alice.id, session=session, now=now)
    }
    assert rows[units.GLUCOSE].overridden and not rows[units.HEART_RATE].overridden
    alerts.reset_threshold(people.doctor, people.alice.id, units.GLUCOSE, session=session, now=now)
    assert alerts.effective_thresholds(people.alice.id, session=session)[units.GLUCOSE].high == 250
    assert session.exec(select(ReadingThreshold)).all() == []


def test_only_clinicians_change_thresholds(session, now):
    people = make_people(session)
    for user in (people.nurse, people.alice_user, people.front_desk):
        with pytest.raises(NotAllowed):
            alerts.set_threshold(
                user, people.alice.id, units.GLUCOSE, session=session, now=now, high=200
            )


@pytest.mark.parametrize(
    ("bounds", "message"),
    [({"low": 200, "high": 100}, "below the high"), ({"high": 5000}, "between")],
)
def test_nonsense_thresholds_are_refused(session, now, bounds, message):
    people = make_people(session)
    with pytest.raises(InvalidInput, match=message):
        alerts.set_threshold(
            people.doctor, people.alice.id, units.GLUCOSE, session=session, now=now, **bounds
        )


def test_breach_text_names_every_bound_crossed():
    threshold = alerts.DEFAULT_THRESHOLDS[units.BLOOD_PRESSURE]
    assert alerts.breach(threshold, 170, 105) == "above 160, diastolic above 100"
    assert alerts.breach(threshold, 160, 100) is None
    assert alerts.breach(alerts.DEFAULT_THRESHOLDS[units.SPO2], 89) == "below 90"


def test_staff_see_the_alert_detail_and_patients_cannot(session, now):
    people = make_people(session)
    _bp(people, session, now, 182, 95, 50)
    _bp(people, session, now, 175, 92, 20)
    [episode] = _episodes(session)
    detail = alerts.alert_detail(people.nurse, episode.id, session=session, now=now)
    assert [r.value for r in detail.readings] == [175, 182]
    assert detail.threshold.high == 160
    with pytest.raises(NotAllowed):
        alerts.alert_detail(people.alice_user, episode.id, session=session, now=now)
    assert alerts.open_alert_count(people.nurse, session=session) == 1


def test_two_imports_racing_still_open_one_episode(session, now, monkeypatch):
    people = make_people(session)
    _bp(people, session, now, 182, 95, 50)
    real = alerts.open_episode
    calls = []

    def stale_first(*args, **kwargs):
        # The racing import looked before the first one committed its episode.
        calls.append(args)
        return None if len(calls) == 1 else real(*args, **kwargs)

    monkeypatch.setattr(alerts, "open_episode", stale_first)
    assert not _bp(people, session, now, 185, 97, 40).alert_opened
    [episode] = _episodes(session)
    assert episode.out_count == 2
    assert len(_items(session)) == 1
