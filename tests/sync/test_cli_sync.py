"""``python -m portal.cli sync``: one sync for cron users, counts per type, exit code on failure."""

import os

import pytest

from tests.cli import run_cli
from tests.sync import fhir_data


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FHIR_")}
    return env | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "STATE_DIR": str(tmp_path),
        "FHIR_MAX_ATTEMPTS": "1",
    }


def test_sync_prints_counts_per_type_and_exits_zero(fhir_server, cli_env):
    fhir_server.load(fhir_data.clinic(2))

    done = run_cli("sync", env=cli_env | {"FHIR_BASE_URL": fhir_server.base_url})

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("EHR sync run 1: succeeded")
    patient_line = next(line for line in lines if line.startswith("Patient "))
    assert patient_line.split() == ["Patient", "2", "2", "0", "0", "0", "0"]
    total = next(line for line in lines if line.startswith("total"))
    assert int(total.split()[2]) == sum(fhir_data.expected_counts(2).values())


def test_sync_exits_non_zero_when_the_ehr_is_down(cli_env):
    done = run_cli("sync", env=cli_env | {"FHIR_BASE_URL": "http://127.0.0.1:9/fhir/R4"})

    assert done.returncode == 1
    assert ": failed in" in done.stdout
    # One line: what failed, since when, and the next try (not one per type and retry).
    errors = [line for line in done.stdout.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stdout
    assert "http://127.0.0.1:9/fhir/R4 refused the connection" in errors[0]
    assert "failing since" in errors[0] and "next try" in errors[0]
    assert "Traceback" not in done.stderr

    again = run_cli("sync", env=cli_env | {"FHIR_BASE_URL": "http://127.0.0.1:9/fhir/R4"})
    since = errors[0].split("failing since ")[1].split(";")[0]
    assert f"failing since {since};" in again.stdout  # since the first failed run, not this one


def test_sync_without_an_ehr_says_so(cli_env):
    done = run_cli("sync", "--all-jobs", env=cli_env)

    assert done.returncode == 2
    assert "visit reminders sent: 0" in done.stdout
    assert "No EHR is configured" in done.stderr and "Traceback" not in done.stderr
