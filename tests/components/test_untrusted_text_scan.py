"""The UI code never hands Streamlit's Markdown a value it cannot prove inert (tests/ui_text_scan.py
says what counts as proof). On main before this check there were 104 such places, among them
st.subheader(view.thread.subject) on Messages and the triage item's heading with the summary."""

from pathlib import Path

import pytest

from tests.ui_text_scan import ALLOWED, ROOT, UI_FILES, scan, scan_file


def test_every_markdown_argument_in_the_ui_is_literal_formatted_or_escaped():
    findings = scan()
    assert not findings, "Untrusted text may reach Markdown (use md_literal):\n" + "\n".join(
        str(f) for f in findings
    )


def test_the_scan_covers_app_pages_and_components():
    names = {p.relative_to(ROOT).as_posix() for p in UI_FILES}
    assert {"app.py", "pages/messages.py", "components/request_card.py"} <= names
    assert len([n for n in names if n.startswith("pages/")]) >= 20


def test_every_allow_list_entry_is_still_in_the_code_and_says_why():
    for (file, line), reason in ALLOWED.items():
        assert line in (ROOT / file).read_text(), f"stale allow-list entry: {file}: {line}"
        assert len(reason) > 20, (file, line)


def _scan_source(tmp_path: Path, source: str) -> list[str]:
    path = tmp_path / "page_under_test.py"
    header = "import streamlit as st\nfrom components.plain_text import md_literal\n"
    path.write_text(header + source)
    return [f"{f.call}: {f.source}" for f in scan_file(path)]


@pytest.mark.parametrize(
    "source",
    [
        "def render(view):\n    st.subheader(view.thread.subject)\n",
        "def render(item):\n    st.caption(f'Pharmacy: {item.pharmacy}')\n",
        "def render(row):\n    st.markdown('**' + row.name + '**')\n",
        "def render(rows):\n    st.radio('Pick', rows, format_func=lambda r: r.subject)\n",
        "def render(name):\n    label = f'Download {name}'\n    st.download_button(label, b'')\n",
        "def render(r):\n    with st.expander(r.reason):\n        pass\n",
        "def render(r):\n    st.tabs([r.title, 'Other'])\n",
        "def render(r):\n    st.metric(r.display, 3)\n",
        "def render(r):\n    st.text_input('Note', help=r.note)\n",
        "def render(kind, text):\n    getattr(st, kind)(text)\n",
        "def render(rows):\n    st.table(rows)\n",
        "def render(r):\n    st.markdown(r.html, unsafe_allow_html=True)\n",
        "def render(n):\n    st.caption(f'{n} items')\n",
        "def render(col, r):\n    col.caption(r.name)\n",
    ],
)
def test_the_scan_flags_untrusted_text_in_markdown(tmp_path, source):
    assert _scan_source(tmp_path, source), source


@pytest.mark.parametrize(
    "source",
    [
        "def render(view):\n    st.subheader(md_literal(view.thread.subject))\n",
        "def render(n, when):\n    st.caption(f'{n:d} items, {when:%d %b %Y}, {n / 3:.0%}')\n",
        "LABELS = {'a': 'A', 'b': 'B'}\n"
        "def render():\n    st.radio('Pick', list(LABELS), format_func=LABELS.get)\n",
        "def render(r):\n    label = 'Yes' if r.ok else 'No'\n    st.caption(label)\n",
        "def render(rows):\n    st.selectbox('Pick', rows, format_func=lambda r: r.name)\n",
        "def render(r):\n    st.text(r.body)\n",
        "def render(rows):\n    st.dataframe(rows)\n",
        "from components import browser_cookie\n"
        "def render(v):\n    browser_cookie.write('n', v, expires=None)\n",
    ],
)
def test_the_scan_accepts_literals_numbers_dates_and_escaped_text(tmp_path, source):
    assert _scan_source(tmp_path, source) == []
