"""Going live: a clinic's own portal, no demo, its first administrator made on the command line,
who signs in through Chromium, sets up two-step sign-in and lands on the staff home."""

import os
import subprocess
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.cli import run_cli
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.helpers import choose, enrol_mfa, open_page, sign_in, signed_in
from tests.e2e.portal_server import serving

pytestmark = pytest.mark.browser

ADMIN = "dana.admin"
ADMIN_PASSWORD = "our clinic goes live today"  # noqa: S105 - a throwaway test portal's password


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = run_cli(*args, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def live_portal(tmp_path_factory, chromium_executable) -> Iterator[str]:
    """The go-live commands as a clinic runs them, then the portal as scripts/start serves it."""
    state = tmp_path_factory.mktemp("go-live-state")
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("DEMO_", "PORTAL_ADMIN", "FHIR_"))
    } | {
        "DATABASE_URL": f"sqlite:///{state / 'portal.db'}",
        "STATE_DIR": str(state),
        "LOGIN_SLEEP_SECONDS": "0",
    }
    prepared = _cli("prepare", "--no-demo", env=env)
    assert "Nobody can sign in yet" in prepared.stdout
    created = _cli(
        "create-admin",
        "--name",
        "Dana Reyes",
        env=env | {"PORTAL_ADMIN_USERNAME": ADMIN, "PORTAL_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    assert f"Created the administrator account {ADMIN}." in created.stdout
    with serving(env, SCREENSHOTS / "go-live-server.log") as url:
        yield url


def test_first_admin_signs_in_enrols_mfa_and_lands_on_the_staff_home(
    live_portal, browser_page, shot
):
    page = browser_page
    sign_in(page, live_portal, ADMIN, ADMIN_PASSWORD)
    # Staff cannot skip it: the QR code and the key to type, before any page of the portal.
    expect(page.get_by_text("Clinic staff must use an authenticator app.")).to_be_visible()
    expect(page.get_by_role("link", name="Patient lookup")).to_have_count(0)
    shot(page, "enrol-mfa")

    enrol_mfa(page)  # reads the key shown, answers with its TOTP code, saves the recovery codes

    expect(page.get_by_role("heading", name="Patient lookup")).to_be_visible()
    expect(page.get_by_text("Signed in as Dana Reyes (admin)")).to_be_visible()
    signed_in(page)
    shot(page, "staff-home")

    # The clinic's administrator can now make the rest of the staff accounts.
    open_page(page, "Users and roles")  # every page of the role is in the menu
    expect(page.get_by_role("heading", name="Users and roles")).to_be_visible()
    expect(page.get_by_role("heading", name="New staff account")).to_be_visible()
    choose(page, "Account", ADMIN)  # the one account there is: the administrator's own
    shot(page, "users-and-roles")
