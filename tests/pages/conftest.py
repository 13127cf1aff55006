"""Page tests use the one harness (tests/harness.py): the real app.py, gate and router."""

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.harness import click, open_app, run_ok, table_values, texts

__all__ = ["click", "open_page", "run_ok", "table_values", "texts"]


@pytest.fixture
def open_page(app_env) -> Callable[..., AppTest]:
    """open_page(username, "pages/x.py", **session_state): the app signed in, on that page."""
    return open_app
