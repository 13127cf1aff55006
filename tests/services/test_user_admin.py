"""Users and roles: every rule, every action audited, non-admins refused and audited."""

from datetime import timedelta

import pytest
from sqlmodel import select

from db.models import AccountCode, AuditEvent, AuthSession, MfaRecoveryCode, Role, User
from portal.errors import InvalidInput, NotAllowed, NotFound
from portal.services import account_codes, audit_chain, sessions, user_admin
from portal.services import security_events as events
from tests.factories import create_patient, create_user


def _events(session, actor: User, outcome: str | None = None) -> list[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.user_id == actor.id).order_by(AuditEvent.id)
    if outcome:
        stmt = stmt.where(AuditEvent.outcome == outcome)
    return list(session.exec(stmt).all())


def _fresh(session, user: User) -> User:
    session.expire_all()
    return session.get(User, user.id)


@pytest.fixture
def admin(session):
    return create_user(session, Role.ADMIN, username="boss", display_name="Ada Admin")


@pytest.fixture
def admin2(session):
    return create_user(session, Role.ADMIN, username="deputy")


# --- who may use it --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.PATIENT, Role.PROXY, Role.FRONT_DESK, Role.NURSE, Role.CLINICIAN]
)
def test_non_admins_are_refused_and_audited(session, now, role, admin):
    patient = create_patient(session)
    user = create_user(session, role, patient if role == Role.PATIENT else None)
    nurse = create_user(session, Role.NURSE)
    calls = [
        lambda: user_admin.list_users(user, session=session, now=now),
        lambda: user_admin.change_role(user, nurse.id, Role.ADMIN, session=session, now=now),
        lambda: user_admin.set_active(user, nurse.id, False, session=session, now=now),
        lambda: user_admin.unlock(user, nurse.id, session=session, now=now),
        lambda: user_admin.end_sessions(user, nurse.id, session=session, now=now),
        lambda: user_admin.reset_mfa(user, nurse.id, session=session, now=now),
        lambda: user_admin.issue_staff_code(user, nurse.id, session=session, now=now),
        lambda: user_admin.create_staff_account(
            user, username="newbie", display_name="N", role=Role.NURSE, session=session, now=now
        ),
    ]
    for call in calls:
        with pytest.raises(NotAllowed):
            call()
        session.rollback()
    denied = _events(session, user, "denied")
    assert len(denied) == len(calls)
    assert nurse.role == Role.NURSE and _fresh(session, nurse).role == Role.NURSE
    assert session.exec(select(User).where(User.username == "newbie")).first() is None
    # Refusals committed between rollbacks keep the hash chain whole.
    assert audit_chain.verify(session).ok


def test_a_deactivated_admin_is_refused(session, now, admin, admin2):
    admin.active = False
    session.add(admin)
    session.commit()
    with pytest.raises(NotAllowed):
        user_admin.list_users(admin, session=session, now=now)
    assert len(_events(session, admin, "denied")) == 1


# --- list and search -------------------------------------------------------------------------


def test_list_shows_account_details_and_last_sign_in(session, now, admin):
    patient = create_patient(session, given_name="Pat", family_name="Ient")
    pat = create_user(session, Role.PATIENT, patient, username="pat")
    nurse = create_user(
        session,
        Role.NURSE,
        username="nina",
        display_name="Nina Nurse",
        mfa_enabled_at=now,
        locked_until=now + timedelta(minutes=10),
    )
    sessions.start(nurse, session=session, now=now - timedelta(days=2), method="password")
    sessions.start(nurse, session=session, now=now - timedelta(hours=1), method="password")
    rows = {r.username: r for r in user_admin.list_users(admin, session=session, now=now)}
    assert set(rows) == {"boss", "pat", "nina"}
    assert rows["pat"].patient_id == patient.id and rows["pat"].patient_name == "Pat Ient"
    assert rows["pat"].last_sign_in is None and not rows["pat"].mfa_enrolled
    assert rows["nina"].mfa_enrolled and rows["nina"].role == Role.NURSE
    assert rows["nina"].locked_until == now + timedelta(minutes=10)
    assert rows["nina"].last_sign_in == now - timedelta(hours=1)
    assert pat.id == rows["pat"].id
    assert [e.action for e in _events(session, admin)] == ["list users"]


def test_search_by_username_name_or_role(session, now, admin):
    create_user(session, Role.NURSE, username="nina", display_name="Nina Nurse")
    create_user(session, Role.CLINICIAN, username="drwho", display_name="The Doctor")
    create_user(session, Role.FRONT_DESK, username="fred", display_name="Fred Desk")

    def names(query):
        return {
            r.username for r in user_admin.list_users(admin, query=query, session=session, now=now)
        }

    assert names("NIN") == {"nina"}
    assert names("doctor") == {"drwho"}
    assert names("clinician") == {"drwho"}
    assert names("front desk") == {"fred"}
    assert names("nobody-like-this") == set()


def test_a_past_lockout_is_not_shown(session, now, admin):
    create_user(session, Role.NURSE, username="nina", locked_until=now - timedelta(minutes=1))
    rows = {r.username: r for r in user_admin.list_users(admin, session=session, now=now)}
    assert rows["nina"].locked_until is None


# --- role changes ----------------------------------------------------------------------------


def test_role_change_among_staff_ends_sessions_and_is_audited(session, now, admin):
    nurse = create_user(session, Role.NURSE, username="nina")
    token = sessions.start(nurse, session=session, now=now - timedelta(minutes=5), method="pw")
    changed = user_admin.change_role(admin, nurse.id, Role.CLINICIAN, session=session, now=now)
    assert changed.role == Role.CLINICIAN
    assert _fresh(session, nurse).role == Role.CLINICIAN
    assert _fresh(session, nurse).sessions_valid_after == now
    with pytest.raises(sessions.SessionEnded):
        sessions.current_user(token, session=session, now=now + timedelta(seconds=1))
    [event] = [e for e in _events(session, admin) if e.category == events.ROLE_CHANGE]
    assert event.outcome == "success" and event.action == "change role"
    assert "nina" in event.detail and "nurse -> clinician" in event.detail


def test_staff_cannot_become_patient_or_proxy(session, now, admin):
    nurse = create_user(session, Role.NURSE)
    for role in (Role.PATIENT, Role.PROXY):
        with pytest.raises(NotAllowed, match="another staff role"):
            user_admin.change_role(admin, nurse.id, role, session=session, now=now)
    assert _fresh(session, nurse).role == Role.NURSE
    denied = _events(session, admin, "denied")
    assert len(denied) == 2 and all(e.category == events.ROLE_CHANGE for e in denied)


def test_linked_patient_account_cannot_become_staff(session, now, admin):
    patient = create_patient(session)
    pat = create_user(session, Role.PATIENT, patient)
    with pytest.raises(NotAllowed) as caught:
        user_admin.change_role(admin, pat.id, Role.CLINICIAN, session=session, now=now)
    assert "linked to a patient record" in caught.value.user_message
    assert _fresh(session, pat).role == Role.PATIENT
    assert len(_events(session, admin, "denied")) == 1


def test_unlinked_proxy_can_become_staff(session, now, admin):
    proxy = create_user(session, Role.PROXY)
    user_admin.change_role(admin, proxy.id, Role.FRONT_DESK, session=session, now=now)
    assert _fresh(session, proxy).role == Role.FRONT_DESK


def test_admin_cannot_remove_own_admin_role(session, now, admin, admin2):
    with pytest.raises(NotAllowed, match="your own administrator role"):
        user_admin.change_role(admin, admin.id, Role.NURSE, session=session, now=now)
    assert _fresh(session, admin).role == Role.ADMIN
    # Another admin may do it, since one active admin remains.
    user_admin.change_role(admin2, admin.id, Role.NURSE, session=session, now=now)
    assert _fresh(session, admin).role == Role.NURSE


def test_a_demoted_admin_loses_the_page_at_once(session, now, admin, admin2):
    stale = _fresh(session, admin2)
    session.expunge(stale)
    user_admin.change_role(admin, admin2.id, Role.NURSE, session=session, now=now)
    # ``stale`` still says "admin" (a page opened earlier); the database says otherwise.
    assert stale.role == Role.ADMIN
    with pytest.raises(NotAllowed):
        user_admin.change_role(stale, admin.id, Role.NURSE, session=session, now=now)
    assert _fresh(session, admin).role == Role.ADMIN
    assert len(_events(session, stale, "denied")) == 1


def test_last_active_admin_cannot_be_demoted_or_deactivated(session, now, admin, monkeypatch):
    """Another admin asking is always a second active admin, so the rule guards against races
    (two admins demoting each other): here the role check is lifted to reach the rule itself."""
    create_user(session, Role.ADMIN, username="retired", active=False)
    ghost = create_user(session, Role.NURSE, username="ghost")
    monkeypatch.setattr(user_admin, "require_admin", lambda *a, **k: None)
    with pytest.raises(NotAllowed, match="last active administrator"):
        user_admin.change_role(ghost, admin.id, Role.NURSE, session=session, now=now)
    with pytest.raises(NotAllowed, match="last active administrator"):
        user_admin.set_active(ghost, admin.id, False, session=session, now=now)
    fresh = _fresh(session, admin)
    assert fresh.role == Role.ADMIN and fresh.active
    denied = _events(session, ghost, "denied")
    assert [e.category for e in denied] == [events.ROLE_CHANGE, events.USER_ADMIN]


def test_other_active_admins_counts_only_active_admins(session, admin):
    create_user(session, Role.ADMIN, active=False)
    create_user(session, Role.NURSE)
    assert user_admin._other_active_admins(admin, session=session) == 0
    create_user(session, Role.ADMIN)
    assert user_admin._other_active_admins(admin, session=session) == 1
    session.rollback()


def test_same_role_and_unknown_role_and_account(session, now, admin):
    nurse = create_user(session, Role.NURSE)
    with pytest.raises(InvalidInput, match="already has"):
        user_admin.change_role(admin, nurse.id, Role.NURSE, session=session, now=now)
    with pytest.raises(InvalidInput):
        user_admin.change_role(admin, nurse.id, "superuser", session=session, now=now)
    with pytest.raises(NotFound):
        user_admin.change_role(admin, 999_999, Role.NURSE, session=session, now=now)


def test_allowed_roles(session):
    patient = create_patient(session)
    assert Role.PATIENT not in user_admin.allowed_roles(create_user(session, Role.NURSE))
    assert user_admin.allowed_roles(create_user(session, Role.PATIENT, patient)) == [Role.PATIENT]
    assert Role.ADMIN in user_admin.allowed_roles(create_user(session, Role.PROXY))


# --- deactivate / reactivate -----------------------------------------------------------------


def test_deactivate_ends_sessions_and_reactivate(session, now, admin):
    nurse = create_user(session, Role.NURSE, username="nina")
    token = sessions.start(nurse, session=session, now=now - timedelta(minutes=5), method="pw")
    user_admin.set_active(admin, nurse.id, False, session=session, now=now)
    assert _fresh(session, nurse).active is False
    assert _fresh(session, nurse).sessions_valid_after == now
    row = session.exec(select(AuthSession).where(AuthSession.user_id == nurse.id)).one()
    assert row.ended_at is not None and row.end_reason == "revoked"
    with pytest.raises(sessions.SessionEnded):
        sessions.current_user(token, session=session, now=now)
    with pytest.raises(InvalidInput, match="already deactivated"):
        user_admin.set_active(admin, nurse.id, False, session=session, now=now)
    user_admin.set_active(admin, nurse.id, True, session=session, now=now)
    assert _fresh(session, nurse).active is True
    actions = [e.action for e in _events(session, admin) if e.outcome == "success"]
    assert actions == ["deactivate account", "reactivate account"]


def test_cannot_deactivate_self_or_last_admin(session, now, admin, admin2):
    with pytest.raises(NotAllowed, match="your own account"):
        user_admin.set_active(admin, admin.id, False, session=session, now=now)
    user_admin.set_active(admin, admin2.id, False, session=session, now=now)
    assert _fresh(session, admin2).active is False
    # A deactivated admin cannot act at all.
    with pytest.raises(NotAllowed):
        user_admin.set_active(admin2, admin.id, False, session=session, now=now)
    assert _fresh(session, admin).active is True
    assert len(_events(session, admin, "denied")) == 1
    assert len(_events(session, admin2, "denied")) == 1


# --- unlock, sessions, MFA -------------------------------------------------------------------


def test_unlock(session, now, admin):
    nurse = create_user(
        session, Role.NURSE, locked_until=now + timedelta(minutes=10), failed_login_count=5
    )
    user_admin.unlock(admin, nurse.id, session=session, now=now)
    fresh = _fresh(session, nurse)
    assert fresh.locked_until is None and fresh.failed_login_count == 0
    with pytest.raises(InvalidInput, match="not locked"):
        user_admin.unlock(admin, nurse.id, session=session, now=now)
    [event] = [e for e in _events(session, admin) if e.action == "unlock account"]
    assert event.category == events.LOCKOUT and event.outcome == "success"


def test_end_sessions(session, now, admin):
    nurse = create_user(session, Role.NURSE)
    t1 = sessions.start(nurse, session=session, now=now - timedelta(minutes=3), method="pw")
    sessions.start(nurse, session=session, now=now - timedelta(minutes=2), method="pw")
    assert user_admin.end_sessions(admin, nurse.id, session=session, now=now) == 2
    with pytest.raises(sessions.SessionEnded):
        sessions.current_user(t1, session=session, now=now)
    assert _fresh(session, nurse).sessions_valid_after == now
    [event] = [e for e in _events(session, admin) if e.action == "end all sessions"]
    assert "2 open sessions ended" in event.detail


def test_reset_mfa_for_staff(session, now, admin):
    nurse = create_user(
        session, Role.NURSE, mfa_secret="JBSWY3DPEHPK3PXP", mfa_enabled_at=now, mfa_last_step=7
    )
    session.add(MfaRecoveryCode(user_id=nurse.id, code_hash="x" * 64, created_at=now))
    session.commit()
    user_admin.reset_mfa(admin, nurse.id, session=session, now=now)
    fresh = _fresh(session, nurse)
    assert fresh.mfa_secret is None and fresh.mfa_enabled_at is None
    assert fresh.mfa_last_step is None and fresh.sessions_valid_after == now
    codes = session.exec(select(MfaRecoveryCode).where(MfaRecoveryCode.user_id == nurse.id)).all()
    assert codes == []
    with pytest.raises(InvalidInput, match="not set up"):
        user_admin.reset_mfa(admin, nurse.id, session=session, now=now)
    assert [e.category for e in _events(session, admin)] == [events.MFA]


def test_reset_mfa_is_not_for_patients(session, now, admin):
    patient = create_patient(session)
    pat = create_user(
        session, Role.PATIENT, patient, mfa_secret="JBSWY3DPEHPK3PXP", mfa_enabled_at=now
    )
    with pytest.raises(InvalidInput, match="for staff accounts"):
        user_admin.reset_mfa(admin, pat.id, session=session, now=now)
    assert _fresh(session, pat).mfa_secret == "JBSWY3DPEHPK3PXP"


# --- new staff accounts ----------------------------------------------------------------------


def test_create_staff_account_and_redeem_its_code(session, now, admin):
    user, code = user_admin.create_staff_account(
        admin,
        username=" NewNurse ",
        display_name="New Nurse",
        role=Role.NURSE,
        email="nn@clinic.test",
        session=session,
        now=now,
    )
    assert user.username == "newnurse" and user.role == Role.NURSE and user.active
    assert user.patient_id is None
    row = session.exec(select(AccountCode).where(AccountCode.user_id == user.id)).one()
    assert row.purpose == account_codes.RESET and row.patient_id is None
    assert row.issued_by_user_id == admin.id and code not in row.code_hash
    assert account_codes.code_purpose(code, session=session, now=now) == account_codes.RESET
    redeemed = account_codes.redeem(
        code,
        username="",
        password="Correct-Horse-Battery-9",
        confirm="Correct-Horse-Battery-9",
        session=session,
        now=now + timedelta(minutes=1),
    )
    assert redeemed.id == user.id and redeemed.role == Role.NURSE
    actions = [e.action for e in _events(session, admin)]
    assert actions == ["create staff account", "issue reset code"]
    assert audit_chain.verify(session).ok


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "x", "display_name": "X", "role": Role.NURSE}, "username"),
        ({"username": "okname", "display_name": " ", "role": Role.NURSE}, "name"),
        ({"username": "okname", "display_name": "X", "role": Role.PATIENT}, "staff role"),
        ({"username": "okname", "display_name": "X", "role": "root"}, "staff role"),
        ({"username": "boss", "display_name": "X", "role": Role.NURSE}, "taken"),
        (
            {"username": "okname", "display_name": "X", "role": Role.NURSE, "email": "no-at"},
            "e-mail",
        ),
    ],
)
def test_create_staff_account_checks_input(session, now, admin, fields, message):
    with pytest.raises(InvalidInput, match=message):
        user_admin.create_staff_account(admin, session=session, now=now, **fields)
    session.rollback()
    assert session.exec(select(User).where(User.username == "okname")).first() is None


def test_staff_reset_code_replaces_older_one(session, now, admin):
    nurse = create_user(session, Role.NURSE)
    first = user_admin.issue_staff_code(admin, nurse.id, session=session, now=now)
    second = user_admin.issue_staff_code(admin, nurse.id, session=session, now=now)
    assert account_codes.code_purpose(first, session=session, now=now) is None
    assert account_codes.code_purpose(second, session=session, now=now) == account_codes.RESET
    patient = create_patient(session)
    pat = create_user(session, Role.PATIENT, patient)
    with pytest.raises(InvalidInput, match="Portal activation"):
        user_admin.issue_staff_code(admin, pat.id, session=session, now=now)


def test_only_admins_issue_account_codes_directly(session, now):
    nurse = create_user(session, Role.NURSE)
    with pytest.raises(NotAllowed):
        account_codes.issue_user_reset_code(nurse, nurse, session=session, now=now)


def test_two_admins_deactivating_each_other_at_once_leave_one(engine, session, now):
    """PostgreSQL: both requests pass the first role check, then meet at the admin-row locks; the
    second sees the first's commit and is refused in plain words (no deadlock, no DB error)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time; row locks are a PostgreSQL matter")
    import threading

    from sqlmodel import Session

    a = create_user(session, Role.ADMIN, username="ann")
    b = create_user(session, Role.ADMIN, username="bob")
    holder = Session(engine)
    # Hold the admin rows so both requests are in flight before either can go on.
    holder.exec(select(User.id).where(User.role == Role.ADMIN).with_for_update()).all()
    results: dict[str, object] = {}
    waiting = threading.Barrier(3)

    def act(name, actor_id, target_id):
        with Session(engine, expire_on_commit=False) as own:
            actor = own.get(User, actor_id)
            waiting.wait()
            try:
                user_admin.set_active(actor, target_id, False, session=own, now=now)
                results[name] = "done"
            except Exception as error:
                results[name] = error

    threads = [
        threading.Thread(target=act, args=("ann", a.id, b.id)),
        threading.Thread(target=act, args=("bob", b.id, a.id)),
    ]
    for thread in threads:
        thread.start()
    waiting.wait()
    holder.rollback()
    holder.close()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, results.values())).count("done") == 1, results
    [refused] = [r for r in results.values() if r != "done"]
    assert isinstance(refused, NotAllowed), refused
    session.expire_all()
    active = session.exec(select(User).where(User.role == Role.ADMIN, User.active.is_(True))).all()
    assert len(active) == 1
