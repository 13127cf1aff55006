"""Every st.session_state key the app uses, in one place (no bare strings across files)."""

# Written by streamlit-authenticator's form; read only by components/login.py for the verdict of
# the password check. Who is signed in comes from AUTH_TOKEN (components/current_user.py).
AUTH_STATUS = "authentication_status"
AUTH_USERNAME = "username"

# The patient whose record a proxy (or a patient with proxy grants) is looking at.
VIEWING_PATIENT_ID = "viewing_patient_id"
# The same choice kept outside the widget as (user id, patient id): a widget's state does not
# survive a page switch reliably, so the picker is re-seeded from this on every page.
VIEWING_PATIENT_CHOICE = "viewing_patient_choice"
# The patient a staff member opened from patient lookup.
STAFF_OPEN_PATIENT_ID = "staff_open_patient_id"
# The test picked on the results page.
RESULTS_SELECTED_CODE = "results_selected_code"

# Sign-in state (components/login.py). The token names a server-side AuthSession row.
AUTH_TOKEN = "auth_session_token"  # noqa: S105 (a session-state key name)
COOKIE_CHECKED = "auth_cookie_checked"
COOKIE_TO_SET = "auth_cookie_to_set"
COOKIE_TO_DELETE = "auth_cookie_to_delete"
LOGIN_PENDING = "login_pending"  # {"user_id", "step", "since", "secret"?, "codes"?} between steps
LOGIN_ERROR = "login_error"
LOGIN_NOTICE = "login_notice"
# The sign-in screen's own inputs (read in its callbacks, emptied after use).
LOGIN_MFA_CODE = "login_mfa_code"
LOGIN_ENROL_CODE = "login_enrol_code"
ACTIVATE_CODE = "activate_code"
ACTIVATE_USERNAME = "activate_username"
ACTIVATE_PASSWORD = "activate_password"  # noqa: S105 (a session-state key name)
ACTIVATE_CONFIRM = "activate_confirm"

# Account security (pages/account_security.py): a secret being enrolled, and recovery codes to
# show once.
ACCOUNT_NEW_SECRET = "account_security_pending_key"  # noqa: S105 (a session-state key name)
ACCOUNT_NEW_CODES = "account_security_new_codes"

# Users and roles (pages/user_admin.py): (username, code) shown once after issuing; the account
# picked in the search results.
USER_ADMIN_CODE = "user_admin_code"
USER_ADMIN_SELECTED = "user_admin_selected"

# Appointments: the slot picked in the booking form.
BOOK_SLOT = "book_slot"

# A one-shot confirmation an action keeps for the next run: (kind, text) (components/actions.py).
FLASH = "flash"

# Patient requests and the triage inbox (messages, refills, profile, notifications).
MESSAGES_SELECTED_THREAD = "messages_selected_thread"
# Text boxes of a message form to empty on the next run, once what was in them was sent.
MESSAGES_CLEAR_FIELDS = "messages_clear_fields"
# {picker name: sends so far}: part of each attachment uploader's key, so a send empties it
# (components/attachment_picker.py).
ATTACHMENT_ROUNDS = "attachment_rounds"
# Staff reply boxes to empty on the next run, after a reply was sent (components/request_card.py).
TRIAGE_CLEAR_FIELDS = "triage_clear_fields"
TRIAGE_SELECTED_ITEM = "triage_selected_item"
REFILL_QUEUE_SELECTED_ITEM = "refill_queue_selected_item"
# {item_id: version} of what the staff member last saw; staff actions are checked against it.
TRIAGE_SEEN_VERSIONS = "triage_seen_versions"

# Readings (issue 7): the report of the last import, shown once after the rerun.
READINGS_IMPORT_REPORT = "readings_import_report"


# Keys that belong to one item on the page.
def confirming_cancel(booking_id: int) -> str:
    """A visit whose "Cancel visit" was clicked and now asks "Yes, cancel visit"."""
    return f"confirm_cancel_{booking_id}"


def reply_body(item_id: int) -> str:
    """A staff reply box in the triage card."""
    return f"reply_body_{item_id}"


def reply_template(item_id: int) -> str:
    """The saved reply picked for an item."""
    return f"template_{item_id}"


def reply_template_used(item_id: int) -> str:
    """The saved reply already copied into the box (so a pick fills it once)."""
    return f"template_used_{item_id}"


# What survives sign-in, sign-out, time-out and a user switch (components/current_user.py
# forget_everything): the browser-cookie plumbing and the notice that says why you are signed out.
_KEPT_ACROSS_USERS = frozenset({COOKIE_CHECKED, COOKIE_TO_SET, COOKIE_TO_DELETE, LOGIN_NOTICE})


def kept_across_users(key: str) -> bool:
    return key in _KEPT_ACROSS_USERS


# One audit entry per view (components/audit_view.py): the page of the current view, and the
# reads already logged in it.
AUDIT_VIEW_PAGE = "_audit_view_page"
AUDIT_VIEW_LOGGED = "_audit_view_logged"
