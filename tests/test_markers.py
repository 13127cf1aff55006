"""tests/markers.py: each test gets the markers of what it uses, for the fast loop's filter."""

import sys
import tomllib

from portal.config import PROJECT_ROOT
from portal.demo.seed import seed_demo_clinic
from tests import markers
from tests.cli import run_cli
from tests.harness import open_app


def _helper_opening_the_app():
    return open_app("someone")


def _page_test_through_a_helper():
    _helper_opening_the_app()


def _plain_test():
    return 1 + 1


def _cli_test():
    return run_cli("prepare", env={})


def _seeding_fixture():
    return seed_demo_clinic


def _marks(function=None, path="tests/x/test_y.py", fixtures=(), params=None, uses=()):
    return markers.markers_for(
        path=path,
        fixtures=fixtures,
        params=params or {},
        function=function,
        module=sys.modules[__name__],
        fixture_functions=uses,
    )


def test_a_plain_database_test_gets_no_marker():
    assert _marks(_plain_test, fixtures=("session", "engine", "migrated_engine")) == set()
    assert _marks(_plain_test, params={"migrated_engine": "sqlite"}) == set()


def test_page_tests_are_found_by_fixture_and_by_the_harness_they_call():
    assert _marks(_plain_test, fixtures=("open_page", "app_env")) == {"page"}
    assert _marks(_plain_test, fixtures=("app_settings",)) == {"page"}
    assert _marks(_page_test_through_a_helper) == {"page"}


def test_fhir_server_postgres_and_browser():
    assert _marks(_plain_test, fixtures=("fhir_client", "fhir_server")) == {"fhir_server"}
    assert _marks(_plain_test, params={"migrated_engine": "postgresql"}) == {"postgres"}
    assert _marks(_plain_test, fixtures=("postgres_pair",)) == {"postgres"}
    assert _marks(_plain_test, path="tests/e2e/test_browser_login.py") == {"browser"}


def test_tests_that_start_the_command_line_or_seed_the_demo_clinic_are_slow():
    assert _marks(_cli_test) == {"slow"}
    assert _marks(_plain_test, uses=[_seeding_fixture]) == {"slow"}
    assert _marks(_plain_test, path="tests/bench/test_bench_smoke.py") == {"slow"}


def test_every_marker_given_is_registered():
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    registered = {m.split(":")[0] for m in config["tool"]["pytest"]["ini_options"]["markers"]}
    assert {"page", "fhir_server", "postgres", "browser", "slow"} <= registered


def test_the_collected_suite_is_marked(request):
    """What this run collected: e2e tests are browser, PostgreSQL cases postgres, app runs page."""
    for item in request.session.items:
        names = {mark.name for mark in item.iter_markers()}
        if item.nodeid.startswith("tests/e2e/"):
            assert "browser" in names, item.nodeid
        callspec = getattr(item, "callspec", None)
        if callspec and callspec.params.get("migrated_engine") == "postgresql":
            assert "postgres" in names, item.nodeid
        if "app_env" in getattr(item, "fixturenames", ()):
            assert "page" in names, item.nodeid
