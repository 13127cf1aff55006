import re

from components.plain_text import md_literal


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_markdown_syntax_is_escaped_and_reads_back_unchanged():
    hostile = "**Metformin** [click](http://evil.example) :red[alert] $x^2$ <b>hi</b> `code` #1"
    escaped = md_literal(hostile)
    # No markdown control character is left unescaped.
    assert not re.search(r"(?<!\\)[*\[\]()`:$<>#]", escaped)
    assert _unescape(escaped) == hostile


def test_line_breaks_cannot_start_a_heading_or_a_list():
    assert md_literal("Aspirin\n# Heading\n- item") == r"Aspirin \# Heading \- item"


def test_empty_values_give_an_empty_string():
    assert md_literal(None) == ""
    assert md_literal("") == ""
