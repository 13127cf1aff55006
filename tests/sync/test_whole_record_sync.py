"""Issue 13 against the real FHIR server: the whole record synced, the server's clock as cursor,
validation as the standard says, quarantine closed by a fix, and one clear outage line."""

import json
import socket
from datetime import timedelta

import orjson
from sqlmodel import select

from db.models import (
    CareGoal,
    CarePlan,
    Device,
    Encounter,
    ImagingStudy,
    Location,
    Observation,
    Organization,
    Procedure,
    QuarantinedResource,
    SyncCheckpoint,
    SyncRun,
)
from ehr_sync.client import FhirClient
from ehr_sync.ndjson_source import NdjsonSource
from ehr_sync.sync import run_sync
from tests.sync import fhir_data
from tests.sync.helpers import stored_counts

PATIENTS = 4


def test_procedures_plans_goals_devices_imaging_and_places_arrive_linked(
    fhir_server, fhir_client, session
):
    fhir_server.load(fhir_data.clinic(PATIENTS))

    result = run_sync(fhir_client, session=session)

    assert result.status == "succeeded", result.errors
    assert stored_counts(session) == fhir_data.expected_counts(PATIENTS)
    visit = session.exec(select(Encounter).where(Encounter.fhir_id == "enc-2")).one()
    assert session.get(Organization, visit.organization_id).name == "Riverside Family Clinic"
    site = session.get(Location, visit.location_id)
    assert site.name == "Riverside Main Street" and site.organization_id == visit.organization_id
    procedure = session.exec(select(Procedure).where(Procedure.fhir_id == "proc-2")).one()
    assert (procedure.code, procedure.display, procedure.location_id) == (
        "73761001",
        "Colonoscopy",
        site.id,
    )
    assert procedure.performed_start.isoformat() == "2021-04-02T09:00:00+00:00"
    plan = session.exec(select(CarePlan).where(CarePlan.fhir_id == "plan-2")).one()
    assert json.loads(plan.activities_json)[0]["what"] == "Diabetic diet"
    assert json.loads(plan.goal_fhir_ids) == ["goal-2"]
    goal = session.exec(select(CareGoal).where(CareGoal.fhir_id == "goal-2")).one()
    assert json.loads(goal.targets_json) == [
        {"measure": "Hemoglobin A1c", "target": "<7 %", "due": "2026-12-31"}
    ]
    device = session.exec(select(Device).where(Device.fhir_id == "dev-2")).one()
    assert device.display == "Blood glucose meter"
    study = session.exec(select(ImagingStudy).where(ImagingStudy.fhir_id == "img-2")).one()
    assert (study.modality, study.body_site, study.instance_count) == (
        "Digital Radiography",
        "Chest",
        2,
    )


def test_no_op_resync_right_after_a_load_reads_almost_nothing(fhir_server, fhir_client, session):
    # The whole load falls inside the 120 s overlap: with the newest lastUpdated as the cursor,
    # the second run re-read all of it. The server's own clock lets it start after the load.
    # (The commit window is 5 s in use; this whole test takes less, so it is 0 here.)
    fhir_server.load(fhir_data.clinic(PATIENTS))
    window = {"overlap": timedelta(seconds=120), "commit_window": timedelta(0)}
    first = run_sync(fhir_client, session=session, **window)
    assert first.status == "succeeded", first.errors
    assert session.exec(select(SyncCheckpoint.server_time)).all().count(None) == 0

    again = run_sync(fhir_client, session=session, **window)

    assert again.status == "succeeded", again.errors
    assert first.total("fetched") == sum(fhir_data.expected_counts(PATIENTS).values())
    assert again.total("fetched") == 0


def test_a_change_after_the_load_is_still_picked_up_with_the_server_clock(
    fhir_server, fhir_client, session
):
    fhir_server.load(fhir_data.clinic(PATIENTS))
    run_sync(fhir_client, session=session)
    changed = fhir_data.glucose(1, 0) | {"valueQuantity": {"value": 321, "unit": "mg/dL"}}
    fhir_server.put(changed)

    result = run_sync(fhir_client, session=session)

    assert result.stats["Observation"].updated == 1
    value = session.exec(select(Observation.value).where(Observation.fhir_id == "obs-1-0"))
    assert value.one() == 321


def test_bogus_status_is_quarantined_and_the_corrected_version_closes_the_entry(
    fhir_server, fhir_client, session
):
    fhir_server.load(fhir_data.clinic(1))
    bogus = fhir_data.glucose(0, 0) | {"id": "obs-bogus", "status": "bogus"}
    fhir_server.put(bogus)

    first = run_sync(fhir_client, session=session)

    assert first.stats["Observation"].quarantined == 1
    entry = session.exec(select(QuarantinedResource)).one()
    assert entry.fhir_id == "obs-bogus" and "status 'bogus'" in entry.reason
    assert entry.resolved_at is None
    assert not session.exec(select(Observation).where(Observation.fhir_id == "obs-bogus")).all()

    fhir_server.put(bogus | {"status": "final"})  # the EHR fixes it: a new version
    second = run_sync(fhir_client, session=session)

    assert second.stats["Observation"].created == 1
    session.refresh(entry)
    assert entry.resolved_at is not None
    assert session.exec(select(Observation).where(Observation.fhir_id == "obs-bogus")).one()


def test_interpretation_codes_longer_than_sixteen_characters_are_kept(
    fhir_server, fhir_client, session
):
    fhir_server.load(fhir_data.clinic(1))
    code = "ObservationInterpretationDetection"  # any length a FHIR code allows
    flagged = fhir_data.glucose(0, 1) | {"interpretation": [{"coding": [{"code": code}]}]}
    fhir_server.put(flagged)

    result = run_sync(fhir_client, session=session)

    assert result.total("quarantined") == 0, result.errors
    stored = session.exec(select(Observation).where(Observation.fhir_id == "obs-0-1")).one()
    assert stored.interpretation == code


def _refusing_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_ehr_refusing_connections_fails_the_run_at_once_with_one_line(session):
    url = f"http://127.0.0.1:{_refusing_port()}/fhir/R4"
    with FhirClient(url, sleep=lambda _: None) as client:
        first = run_sync(client, session=session, next_try_in=timedelta(minutes=15))
        second = run_sync(client, session=session, next_try_in=timedelta(minutes=15))

    for result in (first, second):
        assert result.status == "failed"
        assert len(result.errors) == 1
        assert f"The EHR at {url} refused the connection" in result.errors[0]
        assert "next try at" in result.errors[0]
    assert first.seconds < 5 and second.seconds < 5
    runs = session.exec(select(SyncRun).order_by(SyncRun.id)).all()
    assert [r.status for r in runs] == ["failed", "failed"]
    assert runs[1].errors == second.errors[0]
    # "since when" is the first failed run, not the one that printed it.
    since = first.errors[0].split("failing since ")[1].split(";")[0]
    assert f"failing since {since};" in second.errors[0]


def test_unreadable_ndjson_line_says_what_is_wrong_and_is_recorded_once(tmp_path, session, now):
    good = fhir_data.patient(1) | {
        "meta": {"versionId": "1", "lastUpdated": "2026-01-01T00:00:00Z"}
    }
    (tmp_path / "Patient.ndjson").write_bytes(orjson.dumps(good) + b'\n{"resourceType": "Pat\n')

    for _ in range(3):
        run_sync(NdjsonSource(tmp_path), session=session, clock=lambda: now, types=["Patient"])

    entries = session.exec(select(QuarantinedResource)).all()
    assert len(entries) == 1
    assert entries[0].reason.startswith("Line 2 of Patient.ndjson is not JSON:")


def test_export_transaction_time_is_the_next_cursor(tmp_path, session, now):
    stamp = "2026-01-01T00:00:00Z"
    lines = [
        orjson.dumps(fhir_data.patient(n) | {"meta": {"versionId": "1", "lastUpdated": stamp}})
        for n in range(3)
    ]
    (tmp_path / "Patient.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    (tmp_path / "manifest.json").write_text(
        json.dumps({"transactionTime": "2026-01-01T00:10:00Z", "output": []})
    )
    run_sync(NdjsonSource(tmp_path), session=session, clock=lambda: now, types=["Patient"])

    again = run_sync(NdjsonSource(tmp_path), session=session, clock=lambda: now, types=["Patient"])

    assert again.stats["Patient"].fetched == 0
    checkpoint = session.exec(select(SyncCheckpoint)).one()
    assert checkpoint.server_time.isoformat() == "2026-01-01T00:10:00+00:00"
