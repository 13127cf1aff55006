"""components/readings_ui.py: the recent readings (table, and a chart once one measure with more
than one reading is picked), goals with their progress and the stop button, the goal form, and
the CSV import preview. The clock is stopped at NOW."""

from datetime import timedelta

import pytest
from sqlmodel import select

from components import readings_ui
from db.models import GoalStatus, HealthGoal
from portal.services.readings import csv_import, goals, units
from tests.conftest import NOW
from tests.harness import click, freeze_clock, open_component, run_ok, texts
from tests.readings.helpers import add_reading, make_people


def _recent(user_id: int, patient_id: int) -> None:
    import streamlit as st

    from components.readings_ui import render_recent
    from db.models import User
    from portal.services.unit_of_work import session_scope

    with session_scope() as session:
        user = session.get(User, user_id)
    st.session_state["returned"] = [row.text for row in render_recent(user, patient_id, key="t")]


def _goals(user_id: int, patient_id: int, can_edit: bool) -> None:
    from components.actions import show_flash
    from components.readings_ui import render_goals
    from db.models import User
    from portal.services.unit_of_work import session_scope

    show_flash()
    with session_scope() as session:
        user = session.get(User, user_id)
    render_goals(user, patient_id, key="g", can_edit=can_edit)


def _preview(data: bytes, mapping, source) -> None:
    import streamlit as st

    from components.readings_ui import render_import_preview

    st.session_state["ready"] = render_import_preview(data, mapping, source)


@pytest.fixture
def people(app_env, session, monkeypatch):
    freeze_clock(monkeypatch, NOW, readings_ui)
    return make_people(session)


def _weigh(session, people, kg: float, hours_ago: float) -> None:
    add_reading(
        session,
        people.alice_user,
        people.alice,
        units.WEIGHT,
        kg,
        "kg",
        taken_at=NOW - timedelta(hours=hours_ago),
        now=NOW,
    )


def _table(at) -> list[tuple[str, str]]:
    [frame] = at.dataframe
    return list(zip(frame.value["Measure"], frame.value["Reading"], strict=True))


# --- recent readings --------------------------------------------------------------------------


def test_no_recent_readings_says_so_and_returns_none(session, people):
    _weigh(session, people, 80, hours_ago=91 * 24)  # older than the 90 days shown
    at = open_component(_recent, people.alice_user.id, people.alice.id)
    assert [i.value for i in at.info] == ["No readings in the last 90 days yet."]
    assert not at.dataframe
    assert at.session_state["returned"] == []


def test_recent_readings_newest_first_and_a_chart_only_for_one_measure_with_several(
    session, people
):
    _weigh(session, people, 70, hours_ago=2)
    _weigh(session, people, 71, hours_ago=26)
    _weigh(session, people, 80, hours_ago=91 * 24)  # older than the 90 days shown
    add_reading(
        session,
        people.alice_user,
        people.alice,
        units.BLOOD_PRESSURE,
        120,
        "mmHg",
        value2=80,
        taken_at=NOW - timedelta(hours=3),
        now=NOW,
    )
    at = open_component(_recent, people.alice_user.id, people.alice.id)
    assert _table(at) == [
        ("Weight", "70.0 kg"),
        ("Blood pressure", "120/80 mmHg"),
        ("Weight", "71.0 kg"),
    ]
    assert at.session_state["returned"] == ["70.0 kg", "120/80 mmHg", "71.0 kg"]
    assert not at.get("vega_lite_chart")  # all measures: a table only

    at.selectbox(key="t_measure").set_value(units.WEIGHT)
    run_ok(at)
    assert _table(at) == [("Weight", "70.0 kg"), ("Weight", "71.0 kg")]
    assert len(at.get("vega_lite_chart")) == 1

    at.selectbox(key="t_measure").set_value(units.BLOOD_PRESSURE)
    run_ok(at)
    assert _table(at) == [("Blood pressure", "120/80 mmHg")]
    assert not at.get("vega_lite_chart")  # one point is no line


# --- goals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("can_edit", "said", "form"),
    [(True, "No goals yet. Set one below.", True), (False, "No goals yet.", False)],
)
def test_no_goals_says_so_and_offers_the_form_only_to_who_may_set_one(people, can_edit, said, form):
    at = open_component(_goals, people.alice_user.id, people.alice.id, can_edit)
    assert [i.value for i in at.info] == [said]
    assert ("Save goal" in [b.label for b in at.button]) is form


def _set_weight_goal(session, people) -> HealthGoal:
    return goals.set_goal(
        people.alice_user,
        people.alice.id,
        session=session,
        now=NOW - timedelta(days=1),
        kind="weight_at_most",
        target=72,
        note="Before the wedding",
    )


def test_a_goal_shows_its_target_latest_note_and_chart(session, people):
    _set_weight_goal(session, people)
    _weigh(session, people, 70, hours_ago=2)
    at = open_component(_goals, people.alice_user.id, people.alice.id, False)
    shown = texts(at)
    assert "Weight at or under 72.0 kg · On target" in shown
    assert "Latest: 70.0 kg" in shown
    assert "Before the wedding" in shown
    assert len(at.get("vega_lite_chart")) == 1
    assert not at.button  # seen, not changed


def test_stop_this_goal_stops_it(session, people):
    goal = _set_weight_goal(session, people)
    at = open_component(_goals, people.alice_user.id, people.alice.id, True)
    click(at, "Stop this goal")
    assert [s.value for s in at.success] == ["Goal stopped."]
    session.expire_all()
    assert session.get(HealthGoal, goal.id).status == GoalStatus.STOPPED
    assert [i.value for i in at.info] == ["No goals yet. Set one below."]


def test_the_goal_form_asks_for_a_target_then_saves_a_weight_in_pounds_as_kg(session, people):
    at = open_component(_goals, people.alice_user.id, people.alice.id, True)
    at.selectbox(key="g_goal_kind").set_value("weight_at_most")
    run_ok(at)
    click(at, "Save goal")
    assert [e.value for e in at.error] == ["Please enter a target."]
    assert session.exec(select(HealthGoal)).all() == []

    at.number_input(key="g_goal_target").set_value(165.0)
    at.selectbox(key="g_goal_unit").set_value("lb")
    click(at, "Save goal")
    assert [s.value for s in at.success] == ["Goal saved: Weight at or under."]
    [goal] = session.exec(select(HealthGoal)).all()
    assert (goal.kind, round(goal.target, 1), goal.unit) == ("weight_at_most", 74.8, "kg")


def test_a_blood_pressure_goal_asks_for_both_numbers(session, people):
    at = open_component(_goals, people.alice_user.id, people.alice.id, True)
    at.selectbox(key="g_goal_kind").set_value("bp_under")
    run_ok(at)
    assert {n.label for n in at.number_input} == {"Systolic under", "Diastolic under"}
    assert not [s for s in at.selectbox if s.key == "g_goal_unit"]
    at.number_input(key="g_goal_target").set_value(130.0)
    at.number_input(key="g_goal_target2").set_value(80.0)
    click(at, "Save goal")
    [goal] = session.exec(select(HealthGoal)).all()
    assert (goal.target, goal.target2) == (130, 80)


# --- the CSV import preview -------------------------------------------------------------------

CSV = b"When,Weight (lb),Where\n11/20/2026 08:00,165,home\nbad,1,home\n"


def test_the_preview_shows_each_row_as_it_will_be_stored_or_why_not(people):
    mapping = csv_import.ColumnMapping(
        date="When", value="Weight (lb)", measure="weight", unit="lb"
    )
    at = open_component(_preview, CSV, mapping, "Where")
    assert at.session_state["ready"] is True
    [frame] = at.dataframe
    rows = frame.value
    assert list(rows["Reading"]) == ["74.8 kg", ""]
    assert rows["Not imported because"][1] == "'bad' is not a date we can read."
    assert any("Rows whose 'Where' says clinic are left out" in t for t in texts(at))


def test_a_mapping_the_import_would_refuse_shows_why_and_previews_nothing(people):
    mapping = csv_import.ColumnMapping(date="When", value="When")  # no measure at all
    at = open_component(_preview, CSV, mapping, None)
    assert at.session_state["ready"] is False
    assert len(at.error) == 1
    assert not at.dataframe
