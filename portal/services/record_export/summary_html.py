"""The printable summary as one self-contained HTML page, rendered from a Jinja2 template.

Autoescape is on for the whole template (not per value), so any text from the record, the EHR or
the patient reaches the page as text, never as markup."""

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from portal.services.record_export.summary import Summary

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=StrictUndefined,  # a misspelt field fails in the tests, not as a blank in a file
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_summary_html(summary: Summary) -> str:
    return _TEMPLATES.get_template("summary.html.j2").render(s=summary)
