from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import GoalStatus, HealthGoal
from portal.errors import InvalidInput, NotAllowed, NotYourRecord
from portal.services.readings import goals, units
from tests.factories import create_observation
from tests.readings.helpers import add_reading, make_people


def _add(people, session, now, measure, value, unit, hours_ago, value2=None):
    add_reading(
        session,
        people.alice_user,
        people.alice,
        measure,
        value,
        unit,
        taken_at=now - timedelta(hours=hours_ago),
        now=now,
        value2=value2,
    )


def test_steps_goal_counts_the_days_total(session, now):
    people = make_people(session)
    goals.set_goal(
        people.alice_user,
        people.alice.id,
        session=session,
        now=now,
        kind="steps_per_day",
        target=8000,
    )
    # 2026-11-24 15:00 UTC is 10:00 in New York: hours 1 and 2 ago are the same clinic day.
    _add(people, session, now, units.STEPS, 5000, "count", 1)
    _add(people, session, now, units.STEPS, 4000, "count", 2)
    _add(people, session, now, units.STEPS, 3000, "count", 30)
    [progress] = goals.goals_with_progress(
        people.alice_user, people.alice.id, session=session, now=now
    )
    assert [p.value for p in progress.points] == [3000, 9000]
    assert progress.met is True
    assert progress.status_text == "On target"
    assert progress.target_text == "Steps per day, at least 8000 steps"


def test_weight_goal_given_in_pounds_is_kept_in_kilograms(session, now):
    people = make_people(session)
    goal = goals.set_goal(
        people.nurse,
        people.alice.id,
        session=session,
        now=now,
        kind="weight_at_most",
        target=150,
        unit="lb",
        note="Agreed at the visit",
    )
    assert goal.target == pytest.approx(68.04, abs=0.01)
    assert goal.set_by_user_id == people.nurse.id
    _add(people, session, now, units.WEIGHT, 160, "lb", 5)
    [progress] = goals.goals_with_progress(people.nurse, people.alice.id, session=session, now=now)
    assert progress.met is False
    assert progress.latest.value == pytest.approx(72.57, abs=0.01)
    assert progress.target_text == "Weight at or under 68.0 kg"


def test_blood_pressure_goal_needs_both_numbers_and_judges_both(session, now):
    people = make_people(session)
    with pytest.raises(InvalidInput, match="both numbers"):
        goals.set_goal(
            people.doctor, people.alice.id, session=session, now=now, kind="bp_under", target=130
        )
    goals.set_goal(
        people.doctor,
        people.alice.id,
        session=session,
        now=now,
        kind="bp_under",
        target=130,
        target2=80,
    )
    _add(people, session, now, units.BLOOD_PRESSURE, 125, "mmHg", 3, value2=82)
    [progress] = goals.goals_with_progress(
        people.alice_user, people.alice.id, session=session, now=now
    )
    assert progress.met is False  # systolic under, diastolic not
    _add(people, session, now, units.BLOOD_PRESSURE, 125, "mmHg", 1, value2=78)
    [progress] = goals.goals_with_progress(
        people.alice_user, people.alice.id, session=session, now=now
    )
    assert progress.met is True


def test_a1c_goal_reads_the_clinic_lab_results(session, now):
    people = make_people(session)
    goals.set_goal(
        people.doctor, people.alice.id, session=session, now=now, kind="a1c_under", target=7
    )
    [progress] = goals.goals_with_progress(
        people.alice_user, people.alice.id, session=session, now=now
    )
    assert progress.latest is None and progress.status_text == "No readings yet"
    create_observation(session, people.alice, code="4548-4", value=7.4)
    create_observation(session, people.alice, code="4548-4", value=6.8, effective_at=now)
    [progress] = goals.goals_with_progress(
        people.alice_user, people.alice.id, session=session, now=now
    )
    assert [p.value for p in progress.points] == [7.4, 6.8]
    assert progress.met is True


def test_a_new_goal_of_the_same_kind_replaces_the_old_one(session, now):
    people = make_people(session)
    for target in (9000, 10000):
        goals.set_goal(
            people.alice_user,
            people.alice.id,
            session=session,
            now=now,
            kind="steps_per_day",
            target=target,
        )
    rows = session.exec(select(HealthGoal).order_by(HealthGoal.id)).all()
    assert [(g.target, g.status) for g in rows] == [
        (9000, GoalStatus.STOPPED),
        (10000, GoalStatus.ACTIVE),
    ]
    goals.stop_goal(people.alice_user, rows[1].id, session=session, now=now)
    assert (
        goals.goals_with_progress(people.alice_user, people.alice.id, session=session, now=now)
        == []
    )


def test_who_may_set_goals(session, now):
    people = make_people(session)
    args = dict(session=session, now=now, kind="steps_per_day", target=5000)
    with pytest.raises(NotAllowed):
        goals.set_goal(people.front_desk, people.alice.id, **args)
    with pytest.raises(NotYourRecord):
        goals.set_goal(people.bob_user, people.alice.id, **args)
    goals.set_goal(people.proxy, people.alice.id, **args)
    with pytest.raises(InvalidInput, match="between"):
        goals.set_goal(people.alice_user, people.alice.id, **{**args, "target": 5})
