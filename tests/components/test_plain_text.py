import pytest
from streamlit.testing.v1 import AppTest

from components.plain_text import md_literal
from tests.markdown_check import active_markdown, read_back

HOSTILE = [
    "![p](http://127.0.0.1:9/pixel.png)",
    "[click](http://127.0.0.1:9/phish)",
    ":red[URGENT] :blue-badge[ok] :small[x]",
    "<img src=http://127.0.0.1:9/x> <script>alert(1)</script>",
    "$\\alpha$ and $$x^2$$",
    "**bold** _it_ ~~gone~~ `code`",
    "# heading",
    "> quote",
    "1. first",
    "- item",
    "a | b\n--- | ---",
    ":material/warning: :smile: :100: :+1:",
    "see http://127.0.0.1:9/auto or www.evil.example or mail x@evil.example",
    "&amp; &#x3C;b&#x3E; \\*already escaped\\*",
    "O'Brien, Mary-Jane (née Smith) 100% #1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_inert_and_reads_back_unchanged(text):
    escaped = md_literal(text)
    assert active_markdown(escaped) == []
    assert read_back(escaped) == " ".join(text.split())  # on one line


@pytest.mark.parametrize("text", HOSTILE[:12])
def test_the_check_sees_the_raw_text_as_active(text):
    """The checker is not blind: every hostile sample is active Markdown before escaping."""
    assert active_markdown(text)


def test_line_breaks_cannot_start_a_heading_or_a_list():
    assert md_literal("Aspirin\n# Heading\n- item") == r"Aspirin \# Heading - item"


@pytest.mark.parametrize("text", ["- item", "+ item", "1. first", "12) twelfth"])
def test_a_list_marker_at_the_start_is_escaped(text):
    assert active_markdown(text)
    assert active_markdown(md_literal(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "Metformin 500 mg tablet",
        "Please check what you entered.",
        "Refill status: Requested (since 3 Nov, 10:30 am). Don't worry!",
        'Dr. Anika Patel - family medicine, 50% off? "yes"',
    ],
)
def test_ordinary_sentences_are_unchanged(text):
    assert md_literal(text) == text


def test_empty_values_give_an_empty_string():
    assert md_literal(None) == ""
    assert md_literal("") == ""


def _alerts(kind: str, text: str) -> None:
    from components.plain_text import alert  # AppTest runs this function's source on its own

    alert(kind, text)


@pytest.mark.parametrize("kind", ["success", "info", "warning", "error"])
def test_alert_shows_its_text_literally(kind):
    text = "Refill requested for ![p](http://127.0.0.1:9/p.png) :red[Metformin]"
    at = AppTest.from_function(_alerts, args=(kind, text)).run()
    [box] = getattr(at, kind)
    assert read_back(box.value) == text
    assert active_markdown(box.value) == []
