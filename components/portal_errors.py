"""Domain errors become a plain message on the page, never a stack trace."""

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from portal.errors import PortalError


@contextmanager
def errors_as_messages() -> Iterator[None]:
    """Show a PortalError raised inside the block as st.error and stop the page there."""
    try:
        yield
    except PortalError as error:
        st.error(error.user_message)
        st.stop()
