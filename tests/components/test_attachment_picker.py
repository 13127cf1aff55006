"""components/attachment_picker.py: the picker states and enforces the portal's attachment limit
(not the server's 100 MB upload bound), and starts empty."""

from streamlit.testing.v1 import AppTest

from portal.config import get_settings
from portal.services.attachments import upload_limit_mb


def _picker() -> None:
    from components.attachment_picker import attachment_picker

    attachment_picker("note")


def test_the_picker_limit_is_the_attachment_limit_in_whole_megabytes():
    at = AppTest.from_function(_picker, default_timeout=30).run()
    assert not at.exception, at.exception
    [uploader] = at.get("file_uploader")
    expected = upload_limit_mb(get_settings().attachment_max_bytes)
    assert uploader.proto.max_upload_size_mb == expected
    assert expected < 100  # smaller than the server-wide bound it replaces
    assert [c.value for c in at.caption] == ["No files attached."]
