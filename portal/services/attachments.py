"""Message attachments: the type comes from the file's first bytes, never from its name, and the
bytes are stored once per SHA-256 so a file sent twice takes the space of one."""

import hashlib
import math
from dataclasses import dataclass
from pathlib import PurePath

from sqlmodel import Session

from db.models import Attachment, AttachmentBlob
from portal.config import Settings
from portal.errors import InvalidInput
from portal.text_hygiene import clean_line

# Magic numbers of the formats the clinic accepts.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
# Executables get their own message: a renamed program is the case patients most need explained.
_EXECUTABLE_SIGNATURES = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xce", b"#!")


class AttachmentRejected(InvalidInput):
    """A file that may not be attached; the message says which file and why."""


@dataclass(frozen=True)
class Upload:
    """A file as the page received it: the name the patient gave it and its bytes."""

    filename: str
    data: bytes


def detect_type(data: bytes) -> str | None:
    """The MIME type of an accepted format, from the content, or None."""
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    return None


def clean_filename(name: str) -> str:
    # Keep only the last path part and printable characters; the name is shown back to people.
    base = PurePath(clean_line(name or "").replace("\\", "/")).name.strip()
    return (base or "attachment")[:255]


def size_text(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def upload_limit_mb(max_bytes: int) -> int:
    """The whole MB (MiB, as Streamlit counts them) a file picker shows and enforces for a limit
    in bytes, rounded up so the picker never refuses a file the portal would take."""
    return max(1, math.ceil(max_bytes / (1024 * 1024)))


def check(upload: Upload, settings: Settings) -> str:
    """Return the detected MIME type, or raise AttachmentRejected with a plain reason."""
    name = clean_filename(upload.filename)
    size = len(upload.data)
    if size == 0:
        raise AttachmentRejected(f"'{name}' is empty. Please choose the file again.")
    if size > settings.attachment_max_bytes:
        raise AttachmentRejected(
            f"'{name}' is {size_text(size)}; the limit is "
            f"{size_text(settings.attachment_max_bytes)}. Please attach a smaller file."
        )
    mime = detect_type(upload.data)
    if mime is not None:
        return mime
    if upload.data.startswith(_EXECUTABLE_SIGNATURES):
        raise AttachmentRejected(
            f"'{name}' is a program, not a document, so it cannot be attached (whatever its "
            "name says). Please attach a PDF, JPEG or PNG file."
        )
    raise AttachmentRejected(
        f"'{name}' is not a PDF, JPEG or PNG file (we check the file's content, not its name). "
        "Please attach one of those types."
    )


def check_all(uploads: list[Upload], settings: Settings) -> list[str]:
    """Check every file before anything is stored, so one bad file leaves nothing half-saved."""
    if len(uploads) > settings.attachments_per_message:
        raise AttachmentRejected(
            f"Please attach at most {settings.attachments_per_message} files to one message."
        )
    return [check(u, settings) for u in uploads]


def sort_uploads(uploads: list[Upload], settings: Settings) -> tuple[list[Upload], list[str]]:
    """The files that may be attached, and a sentence for each one that may not
    ("x.bat was not attached: that file type is not accepted."), to show with the confirmation.

    The web page accepts any file so that none is dropped unseen; this is where files are sorted.
    """
    accepted: list[Upload] = []
    not_attached: list[str] = []
    for upload in uploads:
        shown = clean_line(upload.filename or "").strip()[:120] or "A file"
        if len(accepted) >= settings.attachments_per_message:
            not_attached.append(
                f"{shown} was not attached: at most {settings.attachments_per_message} files go "
                "on one message."
            )
            continue
        size = len(upload.data)
        if size == 0:
            reason = "the file is empty"
        elif size > settings.attachment_max_bytes:
            reason = (
                f"it is {size_text(size)} and the limit is "
                f"{size_text(settings.attachment_max_bytes)}"
            )
        elif detect_type(upload.data) is not None:
            accepted.append(upload)
            continue
        elif upload.data.startswith(_EXECUTABLE_SIGNATURES):
            reason = "it is a program, not a document"
        else:
            reason = "that file type is not accepted (PDF, JPEG or PNG only)"
        not_attached.append(f"{shown} was not attached: {reason}.")
    return accepted, not_attached


def store(session: Session, message_id: int, upload: Upload, mime: str) -> Attachment:
    """Add the attachment (and its blob, if new) to the session; the caller commits."""
    digest = hashlib.sha256(upload.data).hexdigest()
    if session.get(AttachmentBlob, digest) is None:
        session.add(
            AttachmentBlob(
                sha256=digest, content_type=mime, size=len(upload.data), data=upload.data
            )
        )
        session.flush()
    attachment = Attachment(
        message_id=message_id,
        filename=clean_filename(upload.filename),
        content_type=mime,
        size=len(upload.data),
        sha256=digest,
    )
    session.add(attachment)
    return attachment
