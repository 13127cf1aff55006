"""portal/services/attachments.py: limits as a file picker shows them."""

import pytest

from portal.services.attachments import upload_limit_mb

MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("max_bytes", "expected"),
    [(10 * MIB, 10), (10 * MIB + 1, 11), (MIB // 2, 1), (1, 1), (100 * MIB, 100)],
)
def test_the_picker_limit_rounds_up_so_no_accepted_file_is_refused(max_bytes, expected):
    assert upload_limit_mb(max_bytes) == expected
