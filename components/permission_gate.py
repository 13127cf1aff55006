"""A page's entry check against the permission table (portal/permissions.py).

The navigation never offers a page to a role without its action; this makes a forced visit show
a plain refusal (audited, like every refusal) and nothing else. The services check again.
"""

from datetime import UTC, datetime

import streamlit as st

from components.portal_errors import show_error
from db.models import User
from portal.errors import PortalError
from portal.permissions import Action, allows
from portal.services.permissions import require_permission
from portal.services.unit_of_work import session_scope


def require_page_permission(user: User, action: Action) -> None:
    """Stop the page with the refusal unless ``user`` may do ``action``."""
    try:
        with session_scope() as session:
            require_permission(user, action, session=session, now=datetime.now(UTC))
    except PortalError as error:
        show_error(error)
        st.stop()


def can(user: User, action: Action) -> bool:
    """Whether to draw a control for ``action`` (the service still decides when it is used)."""
    return allows(user.role, action)
