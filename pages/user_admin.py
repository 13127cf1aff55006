"""Users and roles (admin): find an account, change its role, deactivate, unlock, sign out,
reset two-step sign-in, issue a one-time code; create staff accounts. Every action is audited."""

from collections.abc import Callable
from typing import TypeVar

import pandas as pd
import streamlit as st

from components import session_keys as keys
from components.actions import Confirmation, run_action, show_flash
from components.current_user import current_user
from components.permission_gate import require_page_permission
from components.plain_text import md_literal
from components.portal_errors import errors_as_messages
from db.models import STAFF_ROLES, Role, User
from portal.clock import utcnow
from portal.config import get_settings
from portal.permissions import Action
from portal.services import security_events, user_admin
from portal.services.access import is_staff
from portal.services.unit_of_work import session_scope
from portal.timefmt import format_datetime

T = TypeVar("T")


def _untick_confirmations(_result: object) -> None:
    """Each confirmation covers one action: untick them all."""
    for key in [k for k in st.session_state if str(k).startswith("ua_") and "_ok_" in str(k)]:
        del st.session_state[key]


def _confirmed(confirm: str, button: str, name: str, account_id: int) -> bool:
    """A button that works only once its confirmation box is ticked (keys ``ua_<name>_ok_<id>``
    and ``ua_<name>_btn_<id>``; the ``_ok_`` boxes are unticked after any change)."""
    # The page's own words; md_literal keeps the UI scan's rule without exception.
    ok = st.checkbox(md_literal(confirm), key=f"ua_{name}_ok_{account_id}")
    return st.button(md_literal(button), disabled=not ok, key=f"ua_{name}_btn_{account_id}")


def _change_account(
    user: User,
    account_id: int,
    change: Callable[..., T],
    *args: object,
    success: Confirmation | Callable[[T], Confirmation],
) -> None:
    """One user_admin change to the chosen account, by the signed-in admin, at the clock's now;
    then every confirmation box is unticked (each covers one action)."""
    run_action(
        lambda s: change(user, account_id, *args, session=s, now=utcnow()),
        success,
        after=_untick_confirmations,
    )


def _keep_code(username: str, code: str) -> None:
    """The one-time code is shown once, on the next run."""
    st.session_state[keys.USER_ADMIN_CODE] = (username, code)


def render() -> None:
    user = current_user()
    st.title("Users and roles")
    require_page_permission(user, Action.MANAGE_USERS, category=security_events.USER_ADMIN)

    show_flash()  # names accounts: usernames and names are typed text
    if keys.USER_ADMIN_CODE in st.session_state:
        who, code = st.session_state.pop(keys.USER_ADMIN_CODE)
        hours = get_settings().account_code_hours
        st.success(
            f"Give this one-time code to {md_literal(who)} in person or by phone. It works once, "
            f"for {hours:g} hours, on the sign-in screen under “Activate my account or reset my "
            "password”, where they choose their password. It is shown only now."
        )
        st.code(code, language=None)

    # --- find ----------------------------------------------------------------------------------
    query = st.text_input("Search", placeholder="Username, name or role", max_chars=100)
    now = utcnow()
    with errors_as_messages(), session_scope() as session:
        rows = user_admin.list_users(user, query=query, session=session, now=now)

    if not rows:
        st.info("No accounts match that search." if query.strip() else "There are no accounts yet.")
    else:
        limit = " (the first ones; narrow the search)" if len(rows) >= user_admin.MAX_ROWS else ""
        st.caption(f"{len(rows)} accounts{limit}.")
        # A dataframe never renders its values as markdown or HTML.
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Username": r.username,
                        "Name": r.display_name,
                        "Role": user_admin.role_label(r.role),
                        "Patient record": r.patient_name or "",
                        "Active": "yes" if r.active else "no",
                        "Two-step sign-in": "set up" if r.mfa_enrolled else "not set up",
                        "Locked until": format_datetime(r.locked_until) if r.locked_until else "",
                        "Last sign-in": format_datetime(r.last_sign_in)
                        if r.last_sign_in
                        else "never",
                    }
                    for r in rows
                ]
            ),
            hide_index=True,
            width="stretch",
        )

    # --- one account -----------------------------------------------------------------------------
    if rows:
        by_id = {r.id: r for r in rows}
        chosen_id = st.selectbox(
            "Account",
            list(by_id),
            index=None,
            placeholder="Choose an account to manage",
            format_func=lambda i: (
                f"{by_id[i].username} · {by_id[i].display_name} "
                f"({user_admin.role_label(by_id[i].role)})"
            ),
            key=keys.USER_ADMIN_SELECTED,
        )
        chosen = None if chosen_id is None else by_id.get(chosen_id)
        if chosen is not None:
            st.subheader(md_literal(chosen.username))
            st.text(
                f"{chosen.display_name} · {user_admin.role_label(chosen.role)} · "
                f"{'active' if chosen.active else 'deactivated'}"
            )
            if chosen.id == user.id:
                st.caption("This is your own account: you cannot deactivate it or drop your role.")

            # Role
            roles = [r for r in user_admin.allowed_roles(chosen) if r != chosen.role]
            with st.container(border=True):
                st.markdown("**Role**")
                if not roles:
                    st.caption(
                        "This account is linked to a patient record, so its role stays Patient. "
                        "Staff need a separate staff account."
                    )
                else:
                    new_role = st.selectbox(
                        "New role",
                        roles,
                        format_func=user_admin.role_label,
                        key=f"ua_new_role_{chosen.id}",
                    )
                    if _confirmed(
                        "Change the role (this signs the person out everywhere)",
                        "Change role",
                        "role",
                        chosen.id,
                    ):
                        _change_account(
                            user,
                            chosen.id,
                            user_admin.change_role,
                            new_role,
                            success=f"{chosen.username} is now {user_admin.role_label(new_role)}; "
                            "they were signed out everywhere.",
                        )

            # Access
            with st.container(border=True):
                st.markdown("**Access**")
                if chosen.active:
                    if _confirmed(
                        "Deactivate this account (they can no longer sign in)",
                        "Deactivate",
                        "deact",
                        chosen.id,
                    ):
                        _change_account(
                            user,
                            chosen.id,
                            user_admin.set_active,
                            False,
                            success=f"{chosen.username} is deactivated and was signed out "
                            "everywhere.",
                        )
                elif st.button("Reactivate", key=f"ua_react_btn_{chosen.id}"):
                    _change_account(
                        user,
                        chosen.id,
                        user_admin.set_active,
                        True,
                        success=f"{chosen.username} can sign in again.",
                    )
                if chosen.locked_until is not None:
                    st.text(f"Locked until {format_datetime(chosen.locked_until)}.")
                    if st.button("Unlock", key=f"ua_unlock_btn_{chosen.id}"):
                        _change_account(
                            user,
                            chosen.id,
                            user_admin.unlock,
                            success=f"{chosen.username} is unlocked and can sign in again.",
                        )
                if _confirmed(
                    "Sign this person out on every device", "End all sessions", "signout", chosen.id
                ):
                    _change_account(
                        user,
                        chosen.id,
                        user_admin.end_sessions,
                        success=lambda n: (
                            f"{chosen.username} was signed out everywhere ({n} open sessions)."
                        ),
                    )

            # Staff sign-in help
            if is_staff(chosen):
                with st.container(border=True):
                    st.markdown("**Sign-in help**")
                    if chosen.mfa_enrolled:
                        if _confirmed(
                            "Reset two-step sign-in (they set it up again at their next sign-in)",
                            "Reset two-step sign-in",
                            "mfa",
                            chosen.id,
                        ):
                            _change_account(
                                user,
                                chosen.id,
                                user_admin.reset_mfa,
                                success=f"Two-step sign-in for {chosen.username} is reset; they "
                                "set it up again at their next sign-in.",
                            )
                    else:
                        st.caption("Two-step sign-in is not set up yet.")
                    if st.button("Issue a password-reset code", key=f"ua_code_btn_{chosen.id}"):
                        run_action(
                            lambda s: user_admin.issue_staff_code(
                                user, chosen.id, session=s, now=utcnow()
                            ),
                            None,
                            after=lambda code: _keep_code(chosen.username, code),
                        )
            elif chosen.patient_id is not None:
                st.caption(
                    "Patients get activation and password-reset codes on the Portal activation "
                    "page."
                )

    # --- new staff account ---------------------------------------------------------------------
    st.divider()
    st.subheader("New staff account")
    with st.form("ua_new_staff", clear_on_submit=False):
        left, right = st.columns(2)
        username = left.text_input(
            "Username", max_chars=64, help="Lower-case letters, digits, . - _"
        )
        display_name = right.text_input("Name", max_chars=200)
        role = left.selectbox(
            "Role",
            [r for r in Role if r in STAFF_ROLES],
            format_func=user_admin.role_label,
        )
        email = right.text_input("E-mail (optional)", max_chars=200)
        submitted = st.form_submit_button("Create account", type="primary")
    if submitted:
        run_action(
            lambda s: user_admin.create_staff_account(
                user,
                username=username,
                display_name=display_name,
                role=role,
                email=email,
                session=s,
                now=utcnow(),
            ),
            lambda made: f"Account {made[0].username} created.",
            after=lambda made: _keep_code(made[0].username, made[1]),
        )
