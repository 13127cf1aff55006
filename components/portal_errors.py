"""Domain errors become a plain message on the page, never a stack trace."""

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from components.plain_text import md_literal
from portal.errors import PortalError


def show_error(error: PortalError) -> None:
    """The error's message in an error box, literally: messages can quote what was typed or
    uploaded (a file name, a CSV cell, a unit), so they never go to Markdown raw."""
    st.error(md_literal(error.user_message))


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Show a PortalError raised inside the block as st.error and stop the page there."""
    try:
        yield
    except PortalError as error:
        show_error(error)
        st.stop()
