"""``python -m portal.cli``: prepare seeds the demo once and shows its logins on every start."""

import os
import stat

import pytest
from sqlmodel import Session, func, select

from db.engine import make_engine
from db.models import Patient, User
from portal.cli import is_demo_database, prepare
from portal.config import Settings
from portal.passwords import verify_password
from portal.secrets_store import secret_path
from tests.cli import run_cli


@pytest.fixture
def demo_env(tmp_path) -> dict[str, str]:
    """A private state folder holding its own SQLite file: the shape of the demo database."""
    env = {k: v for k, v in os.environ.items() if k != "DEMO_PASSWORD"}
    env |= {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "STATE_DIR": str(tmp_path),
        "DEMO_PATIENTS": "3",
    }
    return env


def _counts(database: str) -> tuple[int, int, str]:
    """Patients, users, and the patient account's password hash in the database at ``database``."""
    engine = make_engine(database)
    try:
        with Session(engine) as session:
            patients = session.exec(select(func.count()).select_from(Patient)).one()
            users = session.exec(select(func.count()).select_from(User)).one()
            patient_user = session.exec(select(User).where(User.username == "patient")).one()
            return patients, users, patient_user.password_hash
    finally:
        engine.dispose()


def test_prepare_seeds_once_and_shows_the_same_logins_on_the_next_start(demo_env, tmp_path):
    first = run_cli("prepare", env=demo_env)
    assert first.returncode == 0, first.stderr
    assert "Seeding the demo clinic" in first.stdout
    assert "0 quarantined" in first.stdout
    # A living portal: provider hours (so open slots), booked visits, requests in the inbox.
    # (Three patients are all showcase family, so only the demo patient's own two visits.)
    assert "Portal activity: 60 weekly hour blocks, 2 booked visits, 5 requests" in first.stdout
    password_file = secret_path("demo_password", state_dir=tmp_path)
    password = password_file.read_text().strip()
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    for expected in ("http://127.0.0.1:8501", "patient", "caregiver", "drpatel", password):
        assert expected in first.stdout

    second = run_cli("prepare", env=demo_env)
    assert second.returncode == 0, second.stderr
    assert "Seeding" not in second.stdout
    assert password in second.stdout and "caregiver" in second.stdout
    assert "Staff accounts set up two-step sign-in on their first sign-in" in first.stdout

    patients, users, password_hash = _counts(demo_env["DATABASE_URL"])
    assert (patients, users) == (3, 6)
    assert verify_password(password, password_hash)


def test_unreachable_database_is_reported_in_plain_words(demo_env):
    demo_env["DATABASE_URL"] = "postgresql+psycopg://nobody@127.0.0.1:9/nowhere"
    result = run_cli("prepare", env=demo_env)
    assert result.returncode == 2
    assert "Could not reach the database" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_prepare_with_demo_flag_seeds_an_empty_database_only_once(
    engine, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("DEMO_PASSWORD", "Flag-demo-password-1")
    settings = Settings(state_dir=tmp_path, demo_patients=3, _env_file=None)
    prepare(settings, demo=True)
    prepare(settings, demo=True)
    output = capsys.readouterr().out
    assert output.count("Seeding the demo clinic") == 1
    assert output.count("Flag-demo-password-1") == 2
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Patient)).one() == 3


def test_prepare_never_seeds_a_clinic_database_unasked(engine, tmp_path, capsys):
    settings = Settings(
        database_url="postgresql+psycopg://clinic@db.example/portal",
        state_dir=tmp_path,
        _env_file=None,
    )
    prepare(settings)
    assert "no patients yet" in capsys.readouterr().out
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Patient)).one() == 0


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///{state}/portal.db", True),
        ("sqlite:///{state}/sub/portal.db", True),
        ("sqlite:///{elsewhere}/portal.db", False),
        ("sqlite://", False),
        ("postgresql+psycopg://user@host/portal", False),
    ],
)
def test_only_sqlite_files_in_the_state_folder_count_as_the_demo_database(tmp_path, url, expected):
    state, elsewhere = tmp_path / "var", tmp_path / "data"
    settings = Settings(
        database_url=url.format(state=state, elsewhere=elsewhere), state_dir=state, _env_file=None
    )
    assert is_demo_database(settings) is expected
