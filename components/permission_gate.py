"""A page's entry check against the permission table (portal/permissions.py), and whether to
draw a control. Both ask the services' own checks (require_permission, may), so a page decides
with the database's current role, exactly as the service will.

The navigation never offers a page to a role without its action; this makes a forced visit show
a plain refusal (audited, like every refusal) and nothing else. The services check again.
"""

import streamlit as st

from components.portal_errors import show_error
from db.models import User
from portal.clock import utcnow
from portal.errors import PortalError
from portal.permissions import Action
from portal.services.permissions import CATEGORY, may, require_permission
from portal.services.unit_of_work import session_scope


def require_page_permission(user: User, action: Action, *, category: str = CATEGORY) -> None:
    """Stop the page with the refusal unless ``user`` may do ``action`` (``category`` files the
    refusal with the feature's own audit entries)."""
    try:
        with session_scope() as session:
            require_permission(user, action, session=session, now=utcnow(), category=category)
    except PortalError as error:
        show_error(error)
        st.stop()


def can(user: User, action: Action) -> bool:
    """Whether to draw a control for ``action``: the role the database holds now (a demotion on
    another tab counts at once). The service still decides when it is used."""
    with session_scope() as session:
        return may(user, action, session=session)
