"""bench/load.py end to end at a tiny size: one replica behind Caddy on a private PostgreSQL
schema, a patient and a nurse (with MFA) signing in over the websocket protocol and clicking.
No timings are asserted; this keeps the bench and its websocket client from rotting."""

import os
import shutil
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench import load
from db.engine import make_engine
from portal.config import PROJECT_ROOT


def _prepare_demo(url: str, state_dir) -> None:
    """The portal's own `prepare --demo` (migrate and seed a 3-patient demo clinic) on ``url``."""
    env = {**os.environ, "DATABASE_URL": url, "STATE_DIR": str(state_dir), "DEMO_PATIENTS": "3"}
    subprocess.run(
        [sys.executable, "-m", "portal.cli", "prepare", "--demo"],
        env=env,
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def seeded_schema(tmp_path):
    base_url = os.environ.get("TEST_DATABASE_URL", "")
    if not base_url.startswith("postgresql") or shutil.which("caddy") is None:
        if os.environ.get("CI"):
            pytest.fail("The load bench smoke test needs PostgreSQL and Caddy in CI.")
        pytest.skip("needs PostgreSQL (TEST_DATABASE_URL) and Caddy")
    schema = f"cp_load_{uuid.uuid4().hex[:10]}"
    admin = make_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = (
        make_url(base_url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    _prepare_demo(url, tmp_path)
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_load_bench_signs_in_and_clicks_through_the_proxy(seeded_schema, tmp_path):
    report = load.run_once(seeded_schema, replicas=1, users=2, seconds=8, state_dir=tmp_path)

    assert report.errors == {}, report.notes
    assert report.total_clicks > 0
    # Both kinds of user clicked: the patient's pages and the nurse's inbox.
    assert "Test results" in report.clicks or "Home" in report.clicks
    assert "Triage inbox" in report.clicks or "Patient lookup" in report.clicks
    assert sum(report.replica_cpu) > 0
    assert report.row().startswith("| 1 | 2 |")


def test_load_bench_refuses_sqlite_the_test_database_and_remote_hosts():
    with pytest.raises(SystemExit, match="PostgreSQL"):
        load._check_database("sqlite:///var/portal.db")
    with pytest.raises(SystemExit, match="test"):
        load._check_database("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    with pytest.raises(SystemExit, match="loopback"):
        load._check_database("postgresql+psycopg://postgres@db.example.org:5432/bench_x")


def test_load_bench_runs_source_trees_side_by_side_on_sqlite(tmp_path):
    """Issue 17: one process per tree (here this checkout twice), no proxy, on SQLite; CPU per
    click from /proc, the sign-in split into the form and the way to Home, RSS sampled."""
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    _prepare_demo(url, tmp_path)
    trees = [("a", PROJECT_ROOT), ("b", PROJECT_ROOT)]
    reports = load.run_trees(trees, url, [2], 6, state_dir=tmp_path)

    assert [r.code for r in reports] == ["a", "b"]
    for report in reports:
        assert report.window.tally.errors == {}, report.window.tally.error_notes
        assert report.window.total_clicks > 0
        assert report.window.cpu[0] > 0
        assert report.window.tally.to_home and report.form_seconds > 0
        assert len(report.window.rss) >= 2
        assert report.row().startswith(f"| {report.code} | sqlite | 2 |")
