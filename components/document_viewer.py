"""Open a document listed in Health summary > Documents: read its text on the page or download
it. Both go through documents.open_document (access checked for the document's own patient,
audited); the download runs only when clicked, and checks the session again then."""

from collections.abc import Callable

import streamlit as st

from components.current_user import current_user, for_signed_in, session_token
from components.plain_text import md_literal
from components.portal_errors import show_error
from db.models import User
from portal.clock import utcnow
from portal.errors import PortalError
from portal.services.documents import NO_TEXT, OpenedDocument, file_name, open_document
from portal.services.records import DocumentInfo
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_date


def _label(document: DocumentInfo) -> str:
    when = format_date(document.date) if document.date else "no date"
    return f"{document.title} ({when})"


def _open(user: User, document_id: int) -> OpenedDocument:
    with session_scope() as session:
        return open_document(user, document_id, session=session, now=utcnow())


def _file(document_id: int) -> Callable[[], bytes]:
    """The document's text as a file, produced when the download is clicked."""

    def produce(user: User) -> bytes:
        opened = _open(user, document_id)
        return (opened.text or NO_TEXT).encode()

    return for_signed_in(produce, session_token())


def document_viewer(documents: list[DocumentInfo]) -> None:
    if not documents:
        return
    by_id = {d.document_id: d for d in documents}
    # Options are plain text in a select box: titles are EHR text.
    chosen = st.selectbox(
        "Open a document",
        options=list(by_id),
        index=None,
        format_func=lambda i: _label(by_id[i]),
        placeholder="Choose a document to read or download",
        key="summary_document_choice",
    )
    if chosen is None:
        return
    document = by_id[chosen]
    read, download = st.columns(2)
    show = read.button("Read it here", icon=":material/article:", key="summary_document_read")
    download.download_button(
        "Download (.txt)",
        data=_file(chosen),
        file_name=file_name(document.title, chosen),
        mime="text/plain",
        icon=":material/download:",
        key=f"summary_document_download_{chosen}",
        on_click="ignore",
    )
    if not show:
        return
    try:
        opened = _open(current_user(), chosen)
    except PortalError as error:
        show_error(error)
        return
    with st.container(border=True):
        st.markdown(f"**{md_literal(opened.title)}**")
        if opened.document_type or opened.date:
            st.caption(
                md_literal(
                    " · ".join(p for p in (opened.document_type, format_date(opened.date)) if p)
                )
            )
        # The EHR's words, shown exactly as written (plain text, never Markdown).
        st.text(opened.text or NO_TEXT)
