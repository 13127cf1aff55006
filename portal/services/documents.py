"""Open one document from a record (Health summary > Documents): the text the EHR sent with it.

Access is checked for the document's own patient (not the record the page shows), so an id from
another record is refused and the refusal audited; every open is an audited read."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from db.models import Document, User, saved_id
from portal.errors import NotFound
from portal.services import access
from portal.services.audited_reads import log_read
from portal.services.rows import get_or_not_found
from portal.services.withdrawn import WITHDRAWN

OPENED_DOCUMENT = "opened a document"
GONE = "That document is not in the record."
NO_TEXT = (
    "The clinic's system sent no readable text for this document. Please ask the clinic for a copy."
)


@dataclass(frozen=True)
class OpenedDocument:
    document_id: int
    patient_id: int
    title: str
    document_type: str
    date: datetime | None
    text: str | None  # None: nothing the portal can show (say NO_TEXT)


def file_name(title: str, document_id: int) -> str:
    """A safe download name from the title: letters, digits and dashes only (the title is EHR
    text and could hold slashes or dots)."""
    stem = "-".join("".join(c if c.isalnum() else " " for c in title.lower()).split())
    return f"{stem or 'document'}-{document_id}.txt"


def open_document(
    user: User, document_id: int, *, session: Session, now: datetime | None = None
) -> OpenedDocument:
    """One document with its text, for a user who may see its patient (audited)."""
    document = get_or_not_found(session, Document, document_id, GONE)
    access.require_patient_access(
        user, document.patient_id, session=session, category=OPENED_DOCUMENT, now=now
    )
    if document.status == WITHDRAWN:  # the EHR took it back: as if it were never there
        raise NotFound(GONE)
    opened = OpenedDocument(
        document_id=saved_id(document),
        patient_id=document.patient_id,
        title=document.title or document.type_display or "Document",
        document_type=document.type_display or "",
        date=document.date,
        text=document.text if (document.text or "").strip() else None,
    )
    log_read(
        user,
        document.patient_id,
        session=session,
        category=OPENED_DOCUMENT,
        detail=f"document {document.id}",
        now=now,
    )
    return opened
