"""The signed-in AppTest fixtures of the page tests, for the care-beyond-the-visit pages."""

from tests.pages.conftest import app_env, open_page  # noqa: F401
