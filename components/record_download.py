"""Download callables for My data. Streamlit runs them only when the button is clicked, so the
export (and its audit entry) happens on the download itself, not on every page view; and the
session is checked again then, so a tab whose session ended gets no file."""

from collections.abc import Callable

from components.current_user import for_signed_in
from db.models import User
from portal.clock import utcnow
from portal.services import record_export
from portal.services.record_export import DateRange
from portal.services.unit_of_work import session_scope


def deferred(
    export: Callable[..., record_export.RecordFile],
    patient_id: int,
    period: DateRange,
    *,
    token: str | None,
) -> Callable[[], bytes]:
    """A no-argument callable for st.download_button: checks the session ``token``, then runs
    ``export`` as that session's user and returns the file's bytes."""

    def produce(user: User) -> bytes:
        with session_scope() as session:
            file = export(user, patient_id, period, session=session, now=utcnow())
        return file.content

    return for_signed_in(produce, token)
