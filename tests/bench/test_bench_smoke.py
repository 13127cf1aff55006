"""Each bench script runs end to end at a tiny size (no timings are asserted: benchmarks are
run by hand, see docs/PERFORMANCE.md; this only keeps the scripts from rotting)."""

import pytest
from sqlalchemy import func, select

import bench.common
from bench import pages, scale_data, sync
from db.models import Message, Observation, Patient, TriageEvent, TriageItem
from portal.config import get_settings


@pytest.fixture
def bench_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(bench.common, "BENCH_DIR", tmp_path)
    monkeypatch.setattr(sync, "BENCH_DIR", tmp_path)
    monkeypatch.setattr(pages, "BENCH_DIR", tmp_path)
    return tmp_path


def test_scale_data_fans_templates_out_to_n_patients_with_activity(bench_dir):
    url = f"sqlite:///{bench_dir / 'clinic.db'}"
    report = scale_data.load_clinic(url, patients=7, templates=3, seed=5)

    assert report.rows["patient"] == 7
    engine = bench.common.make_engine(url)
    with engine.connect() as conn:
        per_patient = conn.execute(
            select(Observation.patient_id, func.count()).group_by(Observation.patient_id)
        ).all()
        fhir_ids = conn.execute(select(Patient.fhir_id).order_by(Patient.fhir_id)).scalars().all()
        open_items = conn.execute(
            select(func.count()).select_from(TriageItem).where(TriageItem.status != "closed")
        ).scalar_one()
        messages = conn.execute(select(func.count()).select_from(Message)).scalar_one()
        events = conn.execute(select(func.count()).select_from(TriageEvent)).scalar_one()
    engine.dispose()
    assert len(per_patient) == 7 and all(n > 0 for _, n in per_patient)
    assert fhir_ids == [f"demo-pat-{n:04d}" for n in range(1, 8)]
    assert open_items >= 1 and messages >= 1 and events >= report.rows["triageitem"]


def test_scale_data_refuses_databases_outside_the_bench_folder(bench_dir, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere") / "portal.db"
    with pytest.raises(SystemExit, match="Refusing"):
        bench.common.fresh_database(f"sqlite:///{elsewhere}")
    with pytest.raises(SystemExit, match="Refusing"):
        bench.common.fresh_database("postgresql+psycopg://postgres@127.0.0.1:5432/test")


def test_pages_bench_times_and_counts_statements(bench_dir, monkeypatch):
    url = f"sqlite:///{bench_dir / 'clinic.db'}"
    scale_data.load_clinic(url, patients=3, templates=3)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("COOKIE_KEY", "test-cookie-key-test-cookie-key-0123")
    monkeypatch.setenv("LOGIN_SLEEP_SECONDS", "0")
    wanted = [
        s for s in pages.SCENARIOS if s.name in ("patient: home", "nurse: triage inbox, messages")
    ]
    try:
        results = pages.run([("tiny", url)], wanted, runs=2, warmup=0)
    finally:
        get_settings.cache_clear()

    assert [r.error for r in results] == [None, None]
    for result in results:
        assert len(result.statements) == 2 and min(result.statements) > 0
        assert result.median_ms > 0


def test_sync_bench_runs_full_incremental_and_resync(bench_dir):
    url = f"sqlite:///{bench_dir / 'sync.db'}"
    figures = sync.run(url, 3, workers=1, changed=0.05)

    assert figures["full_sync_1_core"]["written"] == figures["resources"]
    assert figures["full_sync_1_workers"]["written"] == figures["resources"]
    assert 0 < figures["incremental"]["written"] < figures["resources"] * 0.2
    assert figures["resync"]["written"] == 0
