"""create-admin: the clinic's own first administrator, who sets up two-step sign-in on first use."""

import os
import sys

import pytest
from sqlmodel import select

from db.models import AuditEvent, Role, User
from portal import cli
from portal.errors import InvalidInput
from portal.passwords import verify_password
from portal.services import first_admin
from portal.services import login as login_service
from portal.services.audit_chain import verify
from tests.cli import run_cli
from tests.factories import create_user

GOOD = "plum tree by the river"


def _events(session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))


def test_created_admin_signs_in_with_the_password_and_must_enrol_mfa_first(session, now):
    admin = first_admin.create_admin(
        username=" Clinic.Admin ",
        password=GOOD,
        confirm=GOOD,
        display_name="Dana Admin",
        operator="root",
        session=session,
        now=now,
    )

    stored = session.exec(select(User).where(User.username == "clinic.admin")).one()
    assert stored.id == admin.id and stored.role == Role.ADMIN and stored.active
    assert stored.display_name == "Dana Admin" and stored.mfa_enabled_at is None
    assert verify_password(GOOD, stored.password_hash)
    passed = login_service.password_passed("clinic.admin", session=session, now=now)
    assert passed.next_step == "enrol"
    [event] = _events(session)
    assert (event.action, event.outcome) == (first_admin.ACTION, "success")
    assert "account clinic.admin: role admin by system user root" in event.detail
    assert GOOD not in event.detail
    assert verify(session).ok


def test_weak_password_is_refused_with_the_policy_words_and_audited(session, now):
    with pytest.raises(InvalidInput, match="Use at least 12 characters"):
        first_admin.create_admin(
            username="admin", password="Xq7!zz", confirm="Xq7!zz", session=session, now=now
        )
    with pytest.raises(InvalidInput, match="two passwords are not the same"):
        first_admin.create_admin(
            username="admin", password=GOOD, confirm=GOOD + "!", session=session, now=now
        )
    with pytest.raises(InvalidInput, match="Do not put your username"):
        password = "admin-of-the-clinic"
        first_admin.create_admin(
            username="admin", password=password, confirm=password, session=session, now=now
        )

    assert session.exec(select(User)).all() == []
    events = _events(session)
    assert [e.outcome for e in events] == ["denied"] * 3
    assert all("Xq7!zz" not in e.detail and GOOD not in e.detail for e in events)


def test_existing_username_is_refused_in_plain_words(session, now):
    create_user(session, role=Role.NURSE, username="sam")

    with pytest.raises(first_admin.UsernameTaken) as refused:
        first_admin.create_admin(
            username="SAM", password=GOOD, confirm=GOOD, session=session, now=now
        )

    assert refused.value.user_message.startswith("There is already an account called sam.")
    assert session.exec(select(User).where(User.username == "sam")).one().role == Role.NURSE
    assert _events(session)[-1].outcome == "denied"


def test_unusable_username_is_refused(session, now):
    with pytest.raises(InvalidInput, match="3 to 64 characters"):
        first_admin.create_admin(
            username="a b", password=GOOD, confirm=GOOD, session=session, now=now
        )


# --- the command -------------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_ADMIN")}
    return env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}", "STATE_DIR": str(tmp_path)}


def test_no_demo_prepare_says_nobody_can_sign_in_until_create_admin_from_the_environment(cli_env):
    prepared = run_cli("prepare", "--no-demo", env=cli_env)
    assert prepared.returncode == 0, prepared.stderr
    assert "create the first administrator with: python -m portal.cli create-admin" in (
        prepared.stdout
    )

    admin_env = cli_env | {"PORTAL_ADMIN_USERNAME": "dana", "PORTAL_ADMIN_PASSWORD": GOOD}
    created = run_cli("create-admin", env=admin_env)
    assert created.returncode == 0, created.stderr
    assert "Created the administrator account dana." in created.stdout
    assert "set up two-step sign-in" in created.stdout

    again = run_cli("create-admin", env=admin_env)
    assert again.returncode == 2
    assert "There is already an account called dana." in again.stderr
    assert "Traceback" not in again.stderr
    assert "create-admin" not in run_cli("prepare", "--no-demo", env=cli_env).stdout


def test_weak_password_from_the_environment_exits_2_without_an_account(cli_env):
    weak = cli_env | {"PORTAL_ADMIN_USERNAME": "dana", "PORTAL_ADMIN_PASSWORD": "password1234"}

    done = run_cli("create-admin", env=weak)

    assert done.returncode == 2
    assert "That password is too common" in done.stderr and "Traceback" not in done.stderr


def test_without_a_terminal_or_the_environment_it_says_what_to_set(cli_env):
    done = run_cli("create-admin", env=cli_env)

    assert done.returncode == 2
    assert "set PORTAL_ADMIN_USERNAME and PORTAL_ADMIN_PASSWORD" in done.stderr


def test_at_a_terminal_it_asks_twice_and_again_after_a_weak_password(
    engine, session, monkeypatch, capsys
):
    answers = iter(["short", "short", GOOD, GOOD])
    monkeypatch.delenv("PORTAL_ADMIN_USERNAME", raising=False)
    monkeypatch.delenv("PORTAL_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _prompt: "dana")
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(answers))

    assert cli.main(["create-admin"]) == 0

    out = capsys.readouterr()
    assert "Use at least 12 characters" in out.err
    assert "Created the administrator account dana." in out.out
    admin = session.exec(select(User).where(User.username == "dana")).one()
    assert verify_password(GOOD, admin.password_hash)


def test_ctrl_d_at_a_prompt_creates_nothing_and_says_so(engine, session, monkeypatch, capsys):
    monkeypatch.delenv("PORTAL_ADMIN_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda _prompt: "dana")

    def end_of_input(_prompt):
        raise EOFError

    monkeypatch.setattr("getpass.getpass", end_of_input)

    assert cli.main(["create-admin"]) == 2
    assert "No answer given; no account was created." in capsys.readouterr().err
    assert session.exec(select(User)).all() == []
