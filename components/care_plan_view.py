"""The care plan: the care team's plans (activities) and goals (targets, who set them) from the
EHR, beside the patient's own goals. EHR text is shown as plain text only."""

from typing import Any

import streamlit as st

from components.plain_text import md_literal
from components.record_tables import show_table, words
from portal.services.care_record import CareGoalRecord, CarePlanRecord, CarePlanView
from portal.timefmt import TABLE_DATE_FORMAT, format_date


def _period(plan: CarePlanRecord) -> str:
    if plan.start and plan.end:
        return f"{format_date(plan.start)} to {format_date(plan.end)}"
    return f"since {format_date(plan.start)}" if plan.start else ""


def _render_plan(plan: CarePlanRecord, goals: dict[int, CareGoalRecord]) -> None:
    with st.container(border=True):
        st.markdown(f"**{md_literal(plan.title)}** · {md_literal(words(plan.status))}")
        facts = [f for f in (_period(plan), plan.addresses and f"for {plan.addresses}") if f]
        if plan.author:
            facts.append(f"by {plan.author}")
        if facts:
            st.caption(md_literal(" · ".join(facts)))
        if plan.description:
            st.text(plan.description)
        show_table(
            [
                {
                    "Activity": a.what,
                    "Status": words(a.status) if a.status else "",
                    "When": a.when,
                    "Why": a.detail,
                }
                for a in plan.activities
            ],
            columns=["Activity", "Status", "When", "Why"],
            empty="No activities listed in this plan.",
            key=f"care_plan_activities_{plan.plan_id}",
        )
        named = [goals[g].description for g in plan.goal_ids if g in goals]
        if named:
            st.text("Goals of this plan: " + "; ".join(named))


def _goal_rows(goals: list[CareGoalRecord]) -> list[dict[str, Any]]:
    rows = []
    for g in goals:
        targets = "; ".join(
            " ".join(p for p in (t.measure, t.target, f"by {t.due}" if t.due else "") if p)
            for t in g.targets
        )
        rows.append(
            {
                "Goal": g.description,
                "Target": targets,
                "Status": words(g.status),
                "Progress": g.achievement,
                "Set by": g.set_by or "Care team",
                "Since": g.start,
            }
        )
    return rows


def render_care_plan(view: CarePlanView) -> None:
    st.subheader("Care team's goals")
    show_table(
        _goal_rows(view.goals),
        columns=["Goal", "Target", "Status", "Progress", "Set by", "Since"],
        empty="Your care team has not recorded goals for you yet.",
        key="care_plan_goals",
        column_config={"Since": st.column_config.DateColumn("Since", format=TABLE_DATE_FORMAT)},
    )
    st.subheader("Your own goals")
    show_table(
        [
            {"Goal": g.target_text, "Progress": g.status_text, "Note": g.goal.note}
            for g in view.own_goals
        ],
        columns=["Goal", "Progress", "Note"],
        empty="You have not set goals of your own. Set one under My readings.",
        key="care_plan_own_goals",
    )
    st.subheader("Care plans")
    if not view.plans:
        st.info("No care plans recorded.")
        return
    goals = {g.goal_id: g for g in view.goals}
    current = [p for p in view.plans if p.active]
    past = [p for p in view.plans if not p.active]
    for plan in current:
        _render_plan(plan, goals)
    if past:
        with st.expander(f"Past care plans ({len(past)})"):
            for plan in past:
                _render_plan(plan, goals)
