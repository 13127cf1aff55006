"""``portal.cli backup`` / ``restore``: what an operator sees, and the exit codes cron relies on."""

import os

import pytest

from tests.cli import run_cli


@pytest.fixture
def clinic(tmp_path) -> dict[str, str]:
    """A prepared portal with its first administrator and a cookie key in its state folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PORTAL_ADMIN", "DEMO_"))}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}", "STATE_DIR": str(tmp_path)}
    assert run_cli("prepare", "--no-demo", env=env).returncode == 0
    admin = {"PORTAL_ADMIN_USERNAME": "dana", "PORTAL_ADMIN_PASSWORD": "plum tree by the river"}
    assert run_cli("create-admin", env=env | admin).returncode == 0
    (tmp_path / "secrets").mkdir(mode=0o700, exist_ok=True)
    (tmp_path / "secrets" / "cookie_key").write_text("cookie-key-of-the-clinic\n")
    return env


def test_backup_then_restore_on_a_new_server(clinic, tmp_path):
    backup = tmp_path / "nightly.backup"
    made = run_cli("backup", str(backup), env=clinic)
    assert made.returncode == 0, made.stderr
    # The audit key travels too: without it the restored trail could not be verified.
    assert "secrets: audit_key, cookie_key." in made.stdout and f"Wrote {backup}" in made.stdout

    new_server = tmp_path / "new-server"
    env = clinic | {
        "DATABASE_URL": f"sqlite:///{new_server / 'portal.db'}",
        "STATE_DIR": str(new_server),
    }
    restored = run_cli("restore", str(backup), env=env)
    assert restored.returncode == 0, restored.stderr
    assert "the same as the backup's manifest (schema" in restored.stdout
    assert "Secrets restored into" in restored.stdout
    # The administrator's creation and the backup itself (the restore adds its own after).
    assert "Audit trail intact: 2 entries verified." in restored.stdout
    assert (new_server / "secrets" / "cookie_key").read_text() == "cookie-key-of-the-clinic\n"
    # The restored portal has its administrator: prepare no longer says nobody can sign in.
    assert "Nobody can sign in yet" not in run_cli("prepare", "--no-demo", env=env).stdout

    again = run_cli("restore", str(backup), env=env)
    assert again.returncode == 2
    assert "already holds data" in again.stderr and "--force" in again.stderr
    assert run_cli("restore", "--force", str(backup), env=env).returncode == 0


def test_a_damaged_backup_exits_3_and_an_existing_name_exits_2(clinic, tmp_path):
    backup = tmp_path / "nightly.backup"
    assert run_cli("backup", str(backup), env=clinic).returncode == 0
    second = run_cli("backup", str(backup), env=clinic)
    assert second.returncode == 2 and "exists already" in second.stderr

    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup.write_bytes(bytes(data))
    env = clinic | {"DATABASE_URL": f"sqlite:///{tmp_path / 'other.db'}"}
    refused = run_cli("restore", str(backup), env=env)

    assert refused.returncode == 3
    assert refused.stderr.startswith("Error: Refused: ") and "Traceback" not in refused.stderr
