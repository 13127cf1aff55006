"""My data: the whole record as a FHIR R4 Bundle, a printable HTML summary and the same summary
as a PDF. Split by output: ``rows`` (the one read), ``bundle`` (FHIR models), ``summary`` (what
the summary says), ``summary_html`` (Jinja2 template), ``summary_pdf`` (fpdf2) and ``exports``
(the audited entry points callers use)."""

from portal.services.record_export.bundle import build_bundle
from portal.services.record_export.exports import (
    EXPORTED_RECORD,
    RecordFile,
    RecordNotExportable,
    export_fhir_bundle,
    export_printable_summary,
    export_summary_pdf,
)
from portal.services.record_export.rows import DateRange, RecordRows
from portal.services.record_export.summary_pdf import PdfUnavailable, pdf_available

__all__ = [
    "EXPORTED_RECORD",
    "DateRange",
    "PdfUnavailable",
    "RecordFile",
    "RecordNotExportable",
    "RecordRows",
    "build_bundle",
    "export_fhir_bundle",
    "export_printable_summary",
    "export_summary_pdf",
    "pdf_available",
]
