"""Injection test: hostile text in every patient- and EHR-supplied field (tests/hostile_text.py)
is shown literally on every page of every role that shows it. Markdown-read values (markdown,
captions, headings, alerts, labels, radio options, metrics, help) must parse as plain text once
escaped, with no link, image, HTML, directive, icon or maths, and read back to the exact string;
plain values (st.text, tables, select boxes) must hold the exact string, unescaped."""

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from components import session_keys as keys
from db.models import Patient, Role, TriageItem
from portal.config import get_settings
from tests.factories import _TEST_HASH, create_user, grant_proxy
from tests.harness import goto, menu_paths, open_app, run_ok
from tests.hostile_text import Planted, plant
from tests.markdown_check import active_markdown, read_back

MARKDOWN_TYPES = {
    "markdown",
    "caption",
    "title",
    "header",
    "subheader",
    "error",
    "warning",
    "info",
    "success",
    "toast",
}
PLAIN_TYPES = {"text", "code"}
MARKDOWN_OPTION_TYPES = {"radio", "select_slider", "button_group"}
PLAIN_OPTION_TYPES = {"selectbox", "multiselect"}
NEVER_IN_OUR_MARKDOWN = ("link_open", "image", "html_inline", "html_block", "autolink")


def shown(at: AppTest) -> tuple[list[str], list[str]]:
    """(values Streamlit renders as Markdown, values it renders as plain text) on the page."""
    markdown, plain = [], []
    for node in at._tree:  # noqa: SLF001 (every element and block of the run)
        kind = getattr(node, "type", "")
        proto = getattr(node, "proto", None)
        if kind in MARKDOWN_TYPES:
            markdown.append(node.value)
        elif kind in PLAIN_TYPES:
            plain.append(node.value)
        elif kind == "dataframe":
            frame = node.value
            plain.extend(str(v) for v in frame.to_numpy().ravel())
            plain.extend(str(c) for c in frame.columns)
        elif kind == "metric":
            markdown.extend([node.value, proto.delta])
        if kind in MARKDOWN_OPTION_TYPES:
            markdown.extend(str(o) for o in node.options)
        elif kind in PLAIN_OPTION_TYPES:
            plain.extend(str(o) for o in node.options)
        for attribute in ("label", "help", "placeholder"):
            value = getattr(proto, attribute, None) if proto is not None else None
            if isinstance(value, str) and value:
                (plain if attribute == "placeholder" else markdown).append(value)
    return markdown, plain


def _find(text: str, planted: Planted) -> dict[str, int]:
    """Where each planted string starts in ``text`` (by its marker)."""
    found = {}
    for tag, value in planted.strings.items():
        head = value[: value.index("ZQ") + 2 + len(tag)]
        index = text.find(head)
        if index >= 0 and not text[index + len(head) : index + len(head) + 1].isalnum():
            found[tag] = index
    return found


def _literal_from(text: str, start: int, value: str) -> bool:
    """``value`` is in ``text`` at ``start`` exactly, or up to where the text ends (cut short)."""
    rest = text[start:]
    return rest.startswith(value) or value.startswith(rest)


def check_page(at: AppTest, planted: Planted, where: str) -> set[str]:
    """Fails on any hostile string shown as live Markdown or altered; returns the tags seen."""
    markdown, plain = shown(at)
    seen: set[str] = set()
    for value in markdown:
        problems = [p for p in active_markdown(value) if p.startswith(NEVER_IN_OUR_MARKDOWN)]
        assert not problems, (where, problems, value)
        text = read_back(value)
        for tag, start in _find(text, planted).items():
            seen.add(tag)
            assert _literal_from(text, start, planted.strings[tag]), (where, tag, value)
            raw_start = value.find(f"ZQ{tag}")
            # From just before the marker (the escaped "# ") to the end: nothing but text.
            assert active_markdown(value[max(0, raw_start - 3) :]) == [], (where, tag, value)
    for value in plain:
        for tag, start in _find(value, planted).items():
            seen.add(tag)
            assert _literal_from(value, start, planted.strings[tag]), (where, tag, value)
    return seen


@pytest.fixture
def planted(session) -> Planted:
    for role, name in [
        (Role.NURSE, "nurse"),
        (Role.CLINICIAN, "clinician"),
        (Role.FRONT_DESK, "frontdesk"),
        (Role.ADMIN, "admin"),
    ]:
        create_user(session, role, username=name, display_name=f"Staff {name}")
    planted = plant(session, host="127.0.0.1:9", password_hash=_TEST_HASH)
    caregiver = create_user(session, Role.PROXY, username="caregiver", display_name="Care Giver")
    grant_proxy(session, caregiver, session.get(Patient, planted.patient_id))
    return planted


def _every_page(at: AppTest, role: Role, planted: Planted, session) -> set[str]:
    seen: set[str] = set()
    for path in menu_paths(role):
        goto(at, path)
        where = f"{role} {path}"
        seen |= check_page(at, planted, where)
        if path == "pages/triage_inbox.py":
            items = session.exec(
                select(TriageItem.id).where(TriageItem.patient_id == planted.patient_id)
            ).all()
            for item_id in items:
                at.selectbox(key="triage_open_item").set_value(item_id)
                run_ok(at)
                seen |= check_page(at, planted, f"{where} item {item_id}")
        elif path == "pages/schedule.py":
            at.selectbox(key="schedule_provider").set_value(planted.practitioner_id)
            at.date_input(key="schedule_day").set_value(
                planted.visit_start.astimezone(get_settings().tz).date()
            )
            run_ok(at)
            at.text_input(key="schedule_patient_query").set_value("Hostile")
            run_ok(at)
            seen |= check_page(at, planted, f"{where} day and booking")
        elif path == "pages/patient_lookup.py":
            at.text_input[0].set_value("Hostile")
            at.button[0].click()  # the form's Search button
            run_ok(at)
            seen |= check_page(at, planted, f"{where} search")
    return seen


def test_hostile_text_is_literal_on_every_patient_and_staff_page(open_page, session, planted):
    seen = _every_page(open_page(planted.username), Role.PATIENT, planted, session)
    seen |= _every_page(open_page("caregiver"), Role.PROXY, planted, session)
    for username, role in [
        ("nurse", Role.NURSE),
        ("clinician", Role.CLINICIAN),
        ("frontdesk", Role.FRONT_DESK),
        ("admin", Role.ADMIN),
    ]:
        at = open_app(username, **{keys.STAFF_OPEN_PATIENT_ID: planted.patient_id})
        seen |= _every_page(at, role, planted, session)
    # A visit request's times and reason are stored for the front desk but no page shows them yet.
    never_shown = set(planted.strings) - seen - {"times", "visit"}
    assert not never_shown, f"planted but shown nowhere (not reached by the test): {never_shown}"


def test_the_nurse_sees_the_subject_as_a_literal_heading(open_page, session, planted):
    """The reported case: st.subheader with a patient's message subject."""
    at = open_app("nurse", "pages/triage_inbox.py")
    item = session.exec(
        select(TriageItem).where(
            TriageItem.patient_id == planted.patient_id, TriageItem.kind == "message"
        )
    ).one()
    at.selectbox(key="triage_open_item").set_value(item.id)
    run_ok(at)
    headings = [read_back(h.value) for h in at.subheader]
    assert any(h.endswith(planted.strings["subject"]) for h in headings), headings
    assert planted.strings["body"] in [t.value for t in at.text]
