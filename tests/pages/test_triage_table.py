"""Issue 12 item 6: the triage table shows what decides the order, urgent first, overdue plain."""

import json
from datetime import UTC, datetime, timedelta

from portal.services import messages
from portal.services.readings import entry, units
from tests.harness import open_app
from tests.readings.helpers import make_people

DECIDING = ["Priority", "Status", "Due", "Overdue", "Assignee"]


def test_the_columns_that_decide_the_order_come_first_and_fit_1280_px(app_env, session):
    people = make_people(session)
    real_now = datetime.now(UTC)
    messages.start_thread(
        people.bob_user,
        people.bob.id,
        recipient="care_team",
        subject="Question",
        body="About my tablets",
        session=session,
        now=real_now - timedelta(days=5),  # long past its 8 business hours
    )
    entry.add_reading(
        people.alice_user,
        people.alice.id,
        session=session,
        now=real_now,
        measure=units.BLOOD_PRESSURE,
        value=186,
        value2=118,
        unit="mmHg",
        taken_at=real_now - timedelta(minutes=5),
    )

    at = open_app(people.nurse.username, "pages/triage_inbox.py")
    table = at.dataframe[0]  # the inbox; the opened item below has tables of its own
    frame = table.value
    assert list(frame.columns)[:5] == DECIDING
    assert list(frame["Priority"]) == ["Urgent", "Normal"]
    assert list(frame["Type"]) == ["Reading alert", "Message"]
    assert frame["Overdue"].iloc[1] == "OVERDUE"
    assert list(frame["Assignee"]) == ["Unassigned", "Unassigned"]
    assert any("overdue" in e.value for e in at.error)

    # Pinned and narrow enough to stay in view in the centred layout of a 1280 px window
    # (about 700 px for the table).
    config = json.loads(table.proto.columns)
    widths = [config[name]["width"] for name in DECIDING]
    assert all(config[name].get("pinned") for name in DECIDING)
    assert sum(widths) <= 600, widths
