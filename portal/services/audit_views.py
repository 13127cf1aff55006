"""One audit entry per view, not per rerun.

Streamlit reruns a page's whole script on every widget change, and every run reads through the
services, so each rerun of the same page would log the same read again (and take the audit chain's
lock again). The UI opens a *view* (``one_entry_per_view``) around a page's run, with a set it
keeps for as long as the user stays on that page; inside it, a read already logged in this view
(same actor, patient, category and detail) is not logged again. A different patient, resource,
detail or page is a new entry, so every distinct read is still audited. Outside a view (jobs, the
CLI, tests that call services directly) every read is logged, as before.

A read is marked as logged only once its entry is committed, so a failed commit is retried.
"""

from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy import event
from sqlmodel import Session

_CURRENT: ContextVar[set[Hashable] | None] = ContextVar("audit_view", default=None)
_PENDING = "audit_view_pending"  # in Session.info: (view, key) awaiting the commit


@contextmanager
def one_entry_per_view(logged: set[Hashable]) -> Iterator[None]:
    """Reads inside are logged once per key for the life of ``logged`` (one view)."""
    token = _CURRENT.set(logged)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def already_logged(key: Hashable) -> bool:
    logged = _CURRENT.get()
    return logged is not None and key in logged


def mark_when_committed(session: Session, key: Hashable) -> None:
    """Remember ``key`` in the current view once the session's transaction commits (forgotten
    if it rolls back)."""
    logged = _CURRENT.get()
    if logged is None:
        return
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []

        def committed(_session: Session) -> None:
            for view, done in pending:
                view.add(done)
            pending.clear()

        # Listeners stay for the session's life (removing one while events fire is not allowed).
        event.listen(session, "after_commit", committed)
        event.listen(session, "after_rollback", lambda _session: pending.clear())
    pending.append((logged, key))
