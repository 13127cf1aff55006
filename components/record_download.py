"""Download callables for My data. Streamlit runs them only when the button is clicked, so the
export (and its audit entry) happens on the download itself, not on every page view."""

from collections.abc import Callable
from datetime import UTC, datetime

from db.engine import session_scope
from db.models import User
from portal.services import record_export
from portal.services.record_export import DateRange


def deferred(
    export: Callable[..., record_export.RecordFile],
    user: User,
    patient_id: int,
    period: DateRange,
) -> Callable[[], bytes]:
    """A no-argument callable for st.download_button that runs ``export`` and returns its bytes."""

    def produce() -> bytes:
        with session_scope() as session:
            file = export(user, patient_id, period, session=session, now=datetime.now(UTC))
        return file.content

    return produce
