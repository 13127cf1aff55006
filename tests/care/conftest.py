"""The signed-in AppTest fixtures of the page tests, for the care-beyond-the-visit pages."""

from tests.pages.conftest import open_page  # noqa: F401
