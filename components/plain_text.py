"""Untrusted text (anything a patient typed or the EHR sent: subjects, bodies, reasons, notes,
names, addresses, pharmacies, file names, display texts, server errors) made inert for Streamlit.

Two ways to show it, and no other:
- plain: ``st.text``, ``st.code``, ``st.dataframe`` cells, select box and multiselect options
  (Streamlit draws these as text: checked in Chromium by tests/e2e/test_browser_untrusted_text.py);
- inside anything Streamlit reads as Markdown (st.markdown/write/caption/title/subheader, alerts,
  toasts, expander/tab/metric/button/widget labels, radio options, help tooltips): through
  ``md_literal``. tests/components/test_untrusted_text_scan.py fails when UI code puts any other
  non-literal value there.

Why escaping alone is not enough: Streamlit's Markdown turns the *text* of a paragraph into links
after parsing (GFM autolink literals: ``http://...``, ``www.``, ``a@b.c``) and its own ``:material/
icon:`` and emoji shortcodes; a backslash does not stop those. A word joiner (U+2060, invisible,
zero width) after such a colon, before an e-mail "@" and after "www" breaks every such pattern
while the text reads exactly as written.
"""

import re

import streamlit as st

WORD_JOINER = "\u2060"
# Characters that start Markdown, HTML or Streamlit syntax anywhere in a line: emphasis, code,
# links and images ([...] and <...>), HTML, headings, tables, strikethrough, $maths$, entities.
_ALWAYS = re.compile(r"([\\`*_\[\]<>#|~$&])")
# A colon before a letter or "/" can open :directive[...], :material/icon: or a URL (http://,
# mailto:), and ":100:"-shaped text an emoji; a word joiner after it also stops the text-level
# rewrites. Times ("10:30") and ratios stay as they are.
_COLON = re.compile(r":(?=[A-Za-z/_]|[\w+-]+:)")
_EMAIL_AT = re.compile(r"(?<=[\w.+-])@")
_WWW = re.compile(r"(?i)(www)(?=\.)")
# Only at the start of a line: a list item (-, +, "1." or "1)") or a quote (> is always escaped).
_LIST_START = re.compile(r"^(\d{1,9})([.)])|^([-+])")


def md_literal(text: object) -> str:
    """The text, escaped so that Streamlit's Markdown shows it exactly as written, on one line.

    Ordinary sentences come back unchanged; only what could act as syntax is escaped."""
    if text is None or text == "":
        return ""
    # Newlines and indents would start new Markdown blocks (headings, lists, code); one line.
    flat = " ".join(str(text).split())
    escaped = _ALWAYS.sub(r"\\\1", flat)
    escaped = _LIST_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", escaped)
    escaped = _COLON.sub("\\:" + WORD_JOINER, escaped)
    escaped = _EMAIL_AT.sub(WORD_JOINER + "@", escaped)
    return _WWW.sub(r"\1" + WORD_JOINER, escaped)


def alert(kind: str, text: object) -> None:
    """A success / info / warning / error box whose text is shown literally (flash messages that
    name a patient, a medication or a file)."""
    body = md_literal(text)
    if kind == "success":
        st.success(body)
    elif kind == "info":
        st.info(body)
    elif kind == "warning":
        st.warning(body)
    else:
        st.error(body)
