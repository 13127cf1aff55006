"""portal/services/decisions.py: the reason rules every staff decision shares."""

import pytest

from portal.errors import InvalidInput
from portal.services.decisions import REASON_MAX, checked_reason


def test_a_reason_is_stripped_and_optional_unless_required():
    assert checked_reason("  ok  ", required=True, missing="why?") == "ok"
    assert checked_reason(None, required=False, missing="why?") == ""


def test_a_missing_reason_says_why_it_is_needed():
    with pytest.raises(InvalidInput, match="why\\?"):
        checked_reason("   ", required=True, missing="why?")


def test_a_reason_longer_than_the_column_is_refused_in_plain_words():
    checked_reason("x" * REASON_MAX, required=False, missing="")
    with pytest.raises(InvalidInput, match="under 2,000 characters"):
        checked_reason("x" * (REASON_MAX + 1), required=False, missing="")
