"""Who may do what: one table of role -> actions, the only place roles are turned into rights.

Services check an action with ``portal.services.permissions.require_permission`` (which audits
every refusal); the navigation shows a page only to roles that hold the action the page needs;
the README's "Roles" table is this table (a test keeps them equal).

The table follows clinical authority: only clinicians decide refills and set alert thresholds;
nurses review and route refills; the front desk books, routes and activates; administrators
manage users, the audit log and the EHR sync. Which patient's record a patient or caregiver may
open is a separate, per-record rule (``portal.services.access``).
"""

from enum import StrEnum

from db.models import Role


class Action(StrEnum):
    # Values are short (they are the audit entry's action); DESCRIPTIONS says them in words.
    READ_ANY_CHART = "read any chart"
    REPLY_TO_MESSAGES = "reply to messages"
    WORK_TRIAGE = "work triage queue"
    REVIEW_REFILLS = "review refills"
    DECIDE_REFILLS = "decide refills"
    DECIDE_PROFILE_CHANGES = "decide profile changes"
    BOOK_FOR_PATIENTS = "book for patients"
    MANAGE_SCHEDULES = "manage schedules"
    ADD_READINGS = "add readings"
    SET_READING_GOALS = "set reading goals"
    SET_READING_THRESHOLDS = "set reading thresholds"
    ISSUE_ACCOUNT_CODES = "issue account codes"
    VIEW_DASHBOARD = "view dashboard"
    MANAGE_USERS = "manage users"
    VIEW_AUDIT_LOG = "view audit log"
    MANAGE_EHR_SYNC = "manage ehr sync"


DESCRIPTIONS: dict[Action, str] = {
    Action.READ_ANY_CHART: "Search patients and read any patient's chart and health data",
    Action.REPLY_TO_MESSAGES: "Read patient messages in the inbox and reply",
    Action.WORK_TRIAGE: "Work the triage inbox: claim, assign, change status with a reason",
    Action.REVIEW_REFILLS: "Open the refill queue and review a refill (medication, visit, labs)",
    Action.DECIDE_REFILLS: "Approve or deny a refill (or close a refill item)",
    Action.DECIDE_PROFILE_CHANGES: "Accept or reject a patient's profile change",
    Action.BOOK_FOR_PATIENTS: "Day calendar, book for a patient, mark arrived / no-show",
    Action.MANAGE_SCHEDULES: "Set provider hours, slot lengths and days off",
    Action.ADD_READINGS: "Add home readings to a record (own or granted, for patients)",
    Action.SET_READING_GOALS: "Set reading goals (own or granted, for patients)",
    Action.SET_READING_THRESHOLDS: "Change a patient's reading alert thresholds",
    Action.ISSUE_ACCOUNT_CODES: "Issue a patient's portal activation or reset code",
    Action.VIEW_DASHBOARD: "Clinic dashboard and no-show risk",
    Action.MANAGE_USERS: "Users and roles, staff accounts and their codes",
    Action.VIEW_AUDIT_LOG: "Search and export the audit log",
    Action.MANAGE_EHR_SYNC: "EHR sync health, quarantine, outbox, sync now",
}

# The plain message a refused person reads. Staff-wide actions speak to a patient account (the
# only one refused them); the others name who holds the authority.
_STAFF_ONLY = "This page is for clinic staff."
REFUSALS: dict[Action, str] = {
    Action.READ_ANY_CHART: _STAFF_ONLY,
    Action.REPLY_TO_MESSAGES: _STAFF_ONLY,
    Action.WORK_TRIAGE: _STAFF_ONLY,
    Action.REVIEW_REFILLS: _STAFF_ONLY,
    Action.DECIDE_REFILLS: "Only a clinician can approve, deny or close a refill request.",
    Action.DECIDE_PROFILE_CHANGES: _STAFF_ONLY,
    Action.BOOK_FOR_PATIENTS: _STAFF_ONLY,
    Action.MANAGE_SCHEDULES: _STAFF_ONLY,
    Action.ADD_READINGS: (
        "Readings are added by the patient, their caregiver, a nurse or a doctor."
    ),
    Action.SET_READING_GOALS: "Goals are set by the patient or their nurse or clinician.",
    Action.SET_READING_THRESHOLDS: "Only a clinician can change a patient's alert thresholds.",
    Action.ISSUE_ACCOUNT_CODES: _STAFF_ONLY,
    Action.VIEW_DASHBOARD: _STAFF_ONLY,
    Action.MANAGE_USERS: "Only administrators can manage users and roles.",
    Action.VIEW_AUDIT_LOG: "Only administrators can read the audit log.",
    Action.MANAGE_EHR_SYNC: "Only administrators can manage the EHR sync.",
}

_EVERY_STAFF_ROLE = frozenset(
    {
        Action.READ_ANY_CHART,
        Action.REPLY_TO_MESSAGES,
        Action.WORK_TRIAGE,
        Action.REVIEW_REFILLS,
        Action.DECIDE_PROFILE_CHANGES,
        Action.BOOK_FOR_PATIENTS,
        Action.MANAGE_SCHEDULES,
        Action.ISSUE_ACCOUNT_CODES,
        Action.VIEW_DASHBOARD,
    }
)
_OWN_HOME_DATA = frozenset({Action.ADD_READINGS, Action.SET_READING_GOALS})

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.PATIENT: _OWN_HOME_DATA,
    Role.PROXY: _OWN_HOME_DATA,
    Role.FRONT_DESK: _EVERY_STAFF_ROLE,
    Role.NURSE: _EVERY_STAFF_ROLE | _OWN_HOME_DATA,
    Role.CLINICIAN: _EVERY_STAFF_ROLE
    | _OWN_HOME_DATA
    | {Action.DECIDE_REFILLS, Action.SET_READING_THRESHOLDS},
    Role.ADMIN: _EVERY_STAFF_ROLE
    | {Action.MANAGE_USERS, Action.VIEW_AUDIT_LOG, Action.MANAGE_EHR_SYNC},
}

ROLE_NAMES: dict[Role, str] = {
    Role.PATIENT: "Patient",
    Role.PROXY: "Caregiver (proxy)",
    Role.FRONT_DESK: "Front desk",
    Role.NURSE: "Nurse",
    Role.CLINICIAN: "Clinician",
    Role.ADMIN: "Admin",
}


def allows(role: Role | str | None, action: Action) -> bool:
    """Whether the table gives ``role`` the ``action`` (the account being active is checked by
    ``require_permission``)."""
    if role is None:  # no role holds nothing (Role(None) would say so too, less plainly)
        return False
    try:
        return action in PERMISSIONS.get(Role(role), frozenset())
    except ValueError:  # an unknown role string holds nothing
        return False


def holders(action: Action) -> list[Role]:
    """The roles holding ``action``, in the table's order."""
    return [role for role in Role if action in PERMISSIONS[role]]


def markdown_table() -> str:
    """The table as Markdown (the README's "Roles" section; a test keeps the two equal)."""
    roles = list(Role)
    lines = [
        "| action | audit name | " + " | ".join(ROLE_NAMES[r] for r in roles) + " |",
        "| --- | --- | " + " | ".join("---" for _ in roles) + " |",
    ]
    for action in Action:
        marks = " | ".join("yes" if allows(r, action) else "" for r in roles)
        lines.append(f"| {DESCRIPTIONS[action]} | `{action}` | {marks} |")
    return "\n".join(lines)
