"""pages/sync_admin.py: the words after Sync now."""

from ehr_sync.jobs import SyncOutcome
from pages.sync_admin import _sync_summary


def test_a_sync_that_reports_no_result_is_said_in_plain_words():
    assert _sync_summary(SyncOutcome(result=None, delivery=None)) == (
        "warning",
        "The sync did not report a result; see the last runs below.",
    )
