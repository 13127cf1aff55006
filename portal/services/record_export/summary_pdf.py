"""The printable summary as a PDF (fpdf2, pure Python), from the same ``Summary`` as the HTML.

fpdf2's built-in fonts are Latin-1 only, so a TrueType font with wide coverage is embedded: a name
like "Zoë Łukasz" or a Greek lab comment prints as written. Text is placed as text (no Markdown or
HTML is interpreted), so record text cannot change the layout.
"""

from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import TableCellFillMode

from portal.errors import PortalError
from portal.services.record_export.summary import Section, Summary

# (regular, bold) pairs, first found wins: Debian's fonts-dejavu-core, then Liberation.
FONT_CANDIDATES: tuple[tuple[Path, Path], ...] = (
    (
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    ),
    (
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf"),
        Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
    ),
)
FONT = "SummaryFont"


class PdfUnavailable(PortalError):
    user_message = (
        "The PDF summary is not available on this server. Download the printable summary "
        "(.html) instead and use your browser's Print to save it as a PDF."
    )


def pdf_available() -> bool:
    """Whether this server can make the PDF (a Unicode font is installed): the page asks first
    rather than offering a button whose file never arrives."""
    try:
        _font_files()
    except PdfUnavailable:
        return False
    return True


def _font_files() -> tuple[Path, Path]:
    for regular, bold in FONT_CANDIDATES:
        if regular.is_file() and bold.is_file():
            return regular, bold
    raise PdfUnavailable()


def _document(summary: Summary, now: datetime) -> FPDF:
    regular, bold = _font_files()
    pdf = FPDF(format="A4")
    pdf.set_title(f"Health summary: {summary.patient_name}")
    pdf.set_creation_date(now)  # the same record and moment give the same file
    pdf.add_font(FONT, "", regular)
    pdf.add_font(FONT, "B", bold)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    return pdf


def _heading(pdf: FPDF, summary: Summary) -> None:
    pdf.set_font(FONT, "B", 16)
    pdf.multi_cell(0, 9, f"Health summary: {summary.patient_name}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(
        0,
        5,
        f"Born {summary.born} · MRN {summary.mrn} · {summary.clinic}\n"
        f"Dates: {summary.dates} · Printed {summary.printed}",
        new_x="LMARGIN",
        new_y="NEXT",
    )


def _section(pdf: FPDF, section: Section) -> None:
    pdf.ln(4)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 7, section.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8)
    if not section.rows:
        pdf.cell(0, 5, section.empty, new_x="LMARGIN", new_y="NEXT")
        return
    with pdf.table(
        text_align="LEFT",
        line_height=4.5,
        padding=1,
        cell_fill_color=235,
        cell_fill_mode=TableCellFillMode.ROWS,
    ) as table:
        for row in [section.headers, *section.rows]:
            table_row = table.row()
            for cell in row:
                table_row.cell(cell)


def render_summary_pdf(summary: Summary, now: datetime) -> bytes:
    pdf = _document(summary, now)
    _heading(pdf, summary)
    for section in summary.sections:
        _section(pdf, section)
    return bytes(pdf.output())
