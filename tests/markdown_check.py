"""What Streamlit's Markdown would make of a string, for tests: a real CommonMark parser
(markdown-it-py, with GFM tables and strikethrough) plus the extras Streamlit layers on top (GFM
autolink literals in the text, :directives[...], :material/icons:, emoji shortcodes, $maths$)."""

import re

from markdown_it import MarkdownIt

from components.plain_text import WORD_JOINER

_PARSER = MarkdownIt("commonmark").enable(["table", "strikethrough"])
# Turned into links after parsing, in the text itself (mdast-util-gfm-autolink-literal).
_AUTOLINK = re.compile(r"(?i)https?://|www\.|mailto:|xmpp:|[-.\w+]+@[-\w]+\.[-\w]")
# Streamlit's own syntax: :red[...], :material/icon:, :smile:.
_SHORTCODE = re.compile(r":[A-Za-z_][\w+-]*[\[/:]|:[\w+-]+:")
# Anything but paragraphs of text: links, images, HTML, headings, lists, quotes, code, emphasis.
_PLAIN_TOKENS = {"paragraph_open", "paragraph_close", "inline", "text", "softbreak"}


def read_back(markdown: str) -> str:
    """The text a reader sees: backslash escapes resolved, word joiners dropped."""
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def active_markdown(markdown: str) -> list[str]:
    """Everything in ``markdown`` that would not show as plain text (empty when inert)."""
    problems = []
    tokens = _PARSER.parse(markdown)
    texts = []
    for token in tokens:
        if token.type not in _PLAIN_TOKENS:
            problems.append(token.type)
        for child in token.children or []:
            if child.type == "text":
                texts.append(child.content)
            elif child.type not in _PLAIN_TOKENS:
                problems.append(child.type)
    text = " ".join(texts)
    problems += [f"autolink {m.group()!r}" for m in _AUTOLINK.finditer(text)]
    problems += [f"directive {m.group()!r}" for m in _SHORTCODE.finditer(text)]
    # Streamlit looks for $...$ in the source once escaped characters are set aside.
    if "$" in re.sub(r"\\.", "", markdown):
        problems.append("maths ($)")
    return problems
