"""Free text at the boundary: what may be stored from a person, a file or the EHR.

PostgreSQL refuses NUL in text (and SQLite keeps it, so the two would differ); other control
characters and lone surrogates have no business in a message or a name and can hide text from
the reader or break exports. They are stripped before storage, on every database alike: line
breaks and tabs survive in multi-line text, nothing invisible survives in a one-line field.
"""

import re
import unicodedata

from sqlalchemy.orm import Session

# C0 controls but tab and line feed, DEL, C1 controls, lone surrogates.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def clean_text(value: str) -> str:
    """Multi-line text (a message, a note): CR/LF become LF; other controls go."""
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", value))


def clean_line(value: str) -> str:
    """A one-line field (a name, a phone number, a file name): every control character goes,
    line breaks and tabs become spaces."""
    return _CONTROL.sub("", re.sub(r"[\t\n]", " ", _LINE_BREAKS.sub("\n", value)))


def has_control_characters(value: str) -> bool:
    return bool(_CONTROL.search(value)) or any(
        unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in value
    )


def before_flush(session: Session, _flush_context: object, _instances: object) -> None:
    """The safety net under every service: strip control characters (keeping tab and line feed)
    from every text column of every row about to be written, so no path (a form, an import,
    the EHR) can store a NUL that PostgreSQL refuses or an invisible character SQLite keeps.

    Audit entries are left alone: ``audit.record`` cleans them before hashing, and changing one
    after would break its hash.
    """
    from sqlalchemy import inspect

    from db.models import AuditEvent

    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, AuditEvent):
            continue
        mapper = inspect(obj).mapper
        for attribute in mapper.column_attrs:
            value = obj.__dict__.get(attribute.key)  # loaded or set values only
            if isinstance(value, str) and _CONTROL.search(value):
                setattr(obj, attribute.key, _CONTROL.sub("", value))
