"""Write-back: the outbox item is part of the change's transaction, and delivery to the real FHIR
server happens once in effect, whatever fails between send and acknowledgement."""

import json
from datetime import timedelta

import httpx
import pytest
from sqlmodel import select

from db.models import (
    Appointment,
    Booking,
    Message,
    MessageThread,
    OutboxItem,
    OutboxStatus,
    Patient,
    RefillRequest,
    Role,
    TriageItem,
)
from ehr_sync.client import FhirClient
from ehr_sync.delivery import deliver_pending
from ehr_sync.fhir_values import RXNORM
from ehr_sync.parsing import parse_resource
from ehr_sync.sync import run_sync
from portal.config import get_settings
from portal.errors import PortalError
from portal.services import audit, messages, refills, writeback
from portal.services.scheduling import booking as booking_service
from tests.factories import create_patient, create_practitioner, create_user
from tests.requests.helpers import create_medication
from tests.scheduling.conftest import WED_9AM, add_template
from tests.sync import fhir_data

DOWN_URL = "http://127.0.0.1:9/fhir/R4"  # nothing listens on the discard port


@pytest.fixture
def write_back(monkeypatch):
    """Write-back on, with the EHR at ``set_url(...)`` (a dead address until a test sets one)."""

    def set_url(url: str) -> None:
        monkeypatch.setenv("FHIR_BASE_URL", url)
        get_settings.cache_clear()

    set_url(DOWN_URL)
    yield set_url
    get_settings.cache_clear()


def _client(url: str, **kwargs) -> FhirClient:
    return FhirClient(
        url, max_attempts=kwargs.pop("max_attempts", 1), sleep=lambda _: None, **kwargs
    )


def _deliver(client, session, now):
    return deliver_pending(client, session=session, now=now, source="ehr", max_attempts=5)


def _items(session) -> list[OutboxItem]:
    session.expire_all()
    return list(session.exec(select(OutboxItem).order_by(OutboxItem.id)).all())


def _approve_a_refill(session, now):
    patient = create_patient(session)
    prescriber = create_practitioner(session, name="Dr. Prescriber")
    doctor = create_user(session, Role.CLINICIAN, practitioner_id=prescriber.id)
    user = create_user(session, Role.PATIENT, patient)
    med = create_medication(
        session, patient, code="860975", code_system="http://www.nlm.nih.gov/research/umls/rxnorm"
    )
    refills.request_refill(user, patient.id, med.id, pharmacy="Elm St", session=session, now=now)
    item = session.exec(select(TriageItem)).one()
    return patient, med, doctor, item


# --- the item is added with the change --------------------------------------------------------


def test_approved_refill_adds_a_medication_request_proposal(write_back, session, now):
    patient, med, doctor, item = _approve_a_refill(session, now)

    refills.decide_refill(doctor, item.id, item.version, approve=True, session=session, now=now)

    [outbox] = _items(session)
    resource = json.loads(outbox.payload)
    assert (outbox.kind, outbox.resource_type, outbox.status) == (
        "refill_approved",
        "MedicationRequest",
        "pending",
    )
    assert resource["intent"] == "proposal" and resource["id"] == outbox.fhir_id
    assert resource["subject"] == {"reference": f"Patient/{patient.fhir_id}"}
    assert resource["priorPrescription"] == {"reference": f"MedicationRequest/{med.fhir_id}"}
    assert resource["medicationCodeableConcept"]["coding"][0]["code"] == "860975"
    assert resource["requester"]["reference"].startswith("Practitioner/")
    parse_resource(resource)  # valid FHIR R4


def test_denied_refill_sends_nothing(write_back, session, now):
    _, _, doctor, item = _approve_a_refill(session, now)
    refills.decide_refill(
        doctor, item.id, item.version, approve=False, reason="Visit first", session=session, now=now
    )
    assert _items(session) == []


def test_outbox_item_rolls_back_with_the_change(write_back, session, now, monkeypatch):
    _, _, doctor, item = _approve_a_refill(session, now)

    def audit_fails(**_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(audit, "record", audit_fails)
    with pytest.raises(RuntimeError):
        refills.decide_refill(doctor, item.id, item.version, approve=True, session=session, now=now)
    session.rollback()

    assert _items(session) == []
    assert session.exec(select(RefillRequest)).one().status == "requested"


def test_no_outbox_without_an_ehr(session, now, monkeypatch):
    monkeypatch.delenv("FHIR_BASE_URL", raising=False)
    get_settings.cache_clear()
    _, _, doctor, item = _approve_a_refill(session, now)
    refills.decide_refill(doctor, item.id, item.version, approve=True, session=session, now=now)
    assert _items(session) == []


def _booking_clinic(session):
    smith = create_practitioner(session, name="Dr. Smith")
    add_template(session, smith, weekday=2, visit_types="follow_up")
    alice = create_patient(session)
    return smith, alice, create_user(session, Role.FRONT_DESK)  # staff may change any time


def test_booking_and_its_cancellation_write_one_appointment(write_back, session, now):
    smith, alice, user = _booking_clinic(session)

    booked = booking_service.book(
        user,
        session=session,
        now=now,
        patient_id=alice.id,
        practitioner_id=smith.id,
        start=WED_9AM,
        visit_type="follow_up",
    )
    [first] = _items(session)
    assert json.loads(first.payload)["status"] == "booked"
    booking_service.cancel(user, booked.id, session=session, now=now)

    first, second = _items(session)
    cancelled = json.loads(second.payload)
    assert second.fhir_id == first.fhir_id  # the same Appointment on the EHR
    assert first.status == "superseded"  # never sent: only the newest state goes
    assert cancelled["status"] == "cancelled" and second.kind == "appointment_cancelled"
    assert {p["actor"]["reference"] for p in cancelled["participant"]} == {
        f"Patient/{alice.fhir_id}",
        f"Practitioner/{smith.fhir_id}",
    }
    assert cancelled["start"] == "2026-11-25T14:00:00Z"
    parse_resource(cancelled)


def test_reschedule_cancels_the_old_appointment_and_books_the_new(write_back, session, now):
    smith, alice, user = _booking_clinic(session)
    old = booking_service.book(
        user,
        session=session,
        now=now,
        patient_id=alice.id,
        practitioner_id=smith.id,
        start=WED_9AM,
        visit_type="follow_up",
    )
    new = booking_service.reschedule(
        user, old.id, session=session, now=now, new_start=WED_9AM + timedelta(hours=1)
    )
    pending = [i for i in _items(session) if i.status == "pending"]
    states = {i.fhir_id: json.loads(i.payload)["status"] for i in pending}
    old_id = writeback.booking_fhir_id(session.get(Booking, old.id), alice)
    new_id = writeback.booking_fhir_id(session.get(Booking, new.id), alice)
    assert states == {old_id: "cancelled", new_id: "booked"}


def test_patient_message_is_a_communication_and_staff_replies_are_not(write_back, session, now):
    alice = create_patient(session)
    user = create_user(session, Role.PATIENT, alice)
    nurse = create_user(session, Role.NURSE)
    thread = messages.start_thread(
        user,
        alice.id,
        recipient="care_team",
        subject="Knee",
        body="<b>It hurts</b>",
        session=session,
        now=now,
    )
    item = session.exec(select(TriageItem)).one()
    messages.staff_reply(nurse, item.id, item.version, body="Come in", session=session, now=now)
    messages.patient_reply(user, thread.id, body="Thanks", session=session, now=now)

    items = _items(session)
    bodies = [json.loads(i.payload)["payload"][0]["contentString"] for i in items]
    assert bodies == ["<b>It hurts</b>", "Thanks"]
    assert {i.resource_type for i in items} == {"Communication"}
    assert len({i.fhir_id for i in items}) == 2
    parse_resource(json.loads(items[0].payload))


# --- delivery to the real FHIR server ---------------------------------------------------------


def _message_item(write_back, session, now, url):
    write_back(url)
    alice = create_patient(session)
    user = create_user(session, Role.PATIENT, alice)
    messages.start_thread(
        user, alice.id, recipient="care_team", subject="Hi", body="Hello", session=session, now=now
    )
    [item] = _items(session)
    return item


def _by_identifier(fhir_server, resource_type: str) -> int:
    found = fhir_server.search(resource_type, identifier=f"{writeback.PORTAL_SYSTEM}|", _count=0)
    return found["total"]


def test_item_is_delivered_once(write_back, fhir_server, session, now):
    item = _message_item(write_back, session, now, fhir_server.base_url)

    with _client(fhir_server.base_url) as client:
        first = _deliver(client, session, now)
        again = _deliver(client, session, now + timedelta(hours=1))

    assert (first.sent, again.attempted) == (1, 0)
    [sent] = _items(session)
    assert sent.status == "sent" and sent.sent_at == now and sent.attempts == 1
    stored = fhir_server.read("Communication", item.fhir_id)
    assert stored["payload"] == [{"contentString": "Hello"}]
    assert _by_identifier(fhir_server, "Communication") == 1


def test_server_down_is_retried_later(write_back, fhir_server, session, now):
    _message_item(write_back, session, now, DOWN_URL)

    with _client(DOWN_URL) as down:
        failed = _deliver(down, session, now)
        not_yet = _deliver(down, session, now + timedelta(seconds=30))
    [item] = _items(session)
    assert (failed.failed, not_yet.attempted) == (1, 0)
    assert item.status == "pending" and item.attempts == 1
    assert "did not answer" in item.last_error
    assert now + timedelta(seconds=40) < item.next_attempt_at < now + timedelta(minutes=2)

    with _client(fhir_server.base_url) as up:
        later = _deliver(up, session, item.next_attempt_at)

    [item] = _items(session)
    assert later.sent == 1 and item.status == "sent" and item.attempts == 2
    assert _by_identifier(fhir_server, "Communication") == 1


class LoseFirstResponse(httpx.BaseTransport):
    """The request reaches the server, but its answer is lost on the way back (once)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lost = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        if request.method == "PUT" and not self.lost:
            self.lost += 1
            raise httpx.ReadError("connection reset by peer")
        return response


def test_retry_after_a_lost_response_creates_no_duplicate(write_back, fhir_server, session, now):
    item = _message_item(write_back, session, now, fhir_server.base_url)
    transport = LoseFirstResponse()

    with _client(fhir_server.base_url, transport=transport) as client:
        first = _deliver(client, session, now)
        assert first.failed == 1 and transport.lost == 1
        assert fhir_server.read("Communication", item.fhir_id)  # it did arrive
        second = _deliver(client, session, now + timedelta(hours=1))

    assert second.sent == 1
    assert _by_identifier(fhir_server, "Communication") == 1
    assert fhir_server.search("Communication", _count=0)["total"] == 1


def test_crash_between_send_and_acknowledgement_resends_after_the_lease(
    write_back, fhir_server, session, now, monkeypatch
):
    item = _message_item(write_back, session, now, fhir_server.base_url)
    from ehr_sync import delivery

    def crash(*_args, **_kwargs):
        raise SystemExit("killed after the PUT")

    monkeypatch.setattr(delivery, "_record", crash)
    with _client(fhir_server.base_url) as client, pytest.raises(SystemExit):
        _deliver(client, session, now)
    monkeypatch.undo()
    session.rollback()
    write_back(fhir_server.base_url)

    with _client(fhir_server.base_url) as client:
        during_lease = _deliver(client, session, now + timedelta(minutes=1))
        after_lease = _deliver(client, session, now + delivery.LEASE)

    assert (during_lease.attempted, after_lease.sent) == (0, 1)
    assert _by_identifier(fhir_server, "Communication") == 1
    assert fhir_server.read("Communication", item.fhir_id)["status"] == "completed"


def test_a_refused_resource_is_stuck_at_once(write_back, fhir_server, session, now):
    item = _message_item(write_back, session, now, fhir_server.base_url)
    item.payload = json.dumps({**json.loads(item.payload), "id": "some-other-id"})
    session.add(item)
    session.commit()

    with _client(fhir_server.base_url) as client:
        report = _deliver(client, session, now)

    [item] = _items(session)
    assert report.stuck == 1 and item.status == OutboxStatus.STUCK
    assert item.last_error.startswith("HTTP 4")


def test_item_is_stuck_after_max_attempts(write_back, session, now):
    _message_item(write_back, session, now, DOWN_URL)
    moment = now
    with _client(DOWN_URL) as down:
        for _ in range(5):
            _deliver(down, session, moment)
            moment += timedelta(days=1)
    [item] = _items(session)
    assert item.status == "stuck" and item.attempts == 5


def test_an_older_unsent_change_of_the_same_resource_goes_first(write_back, session, now):
    resource = {"resourceType": "Appointment", "id": "appt-1", "status": "booked"}
    older = writeback.enqueue(session, kind="x", resource=resource, now=now)
    session.commit()
    older.next_attempt_at = now + timedelta(hours=1)  # waiting after a failure
    session.add(older)
    newer = OutboxItem(
        kind="x", resource_type="Appointment", fhir_id="appt-1", payload="{}", next_attempt_at=now
    )  # (enqueue would supersede it; an item added meanwhile by another writer may not be)
    session.add(newer)
    session.commit()

    with _client(DOWN_URL) as down:
        report = _deliver(down, session, now)

    assert report.attempted == 0


def test_sync_skips_what_the_portal_wrote_back_and_still_sees_deletions(
    write_back, fhir_server, fhir_client, session, now
):
    write_back(fhir_server.base_url)
    fhir_server.load(fhir_data.clinic(3))
    run_sync(fhir_client, session=session)
    synced = session.exec(select(Appointment)).all()
    smith, alice, user = _booking_clinic(session)
    patient = session.exec(select(Appointment)).first().patient_id
    booking_service.book(
        create_user(session, Role.FRONT_DESK),
        session=session,
        now=now,
        patient_id=patient,
        practitioner_id=smith.id,
        start=WED_9AM,
        visit_type="follow_up",
    )
    with _client(fhir_server.base_url) as client:
        assert _deliver(client, session, now).sent == 1
    fhir_server.delete("Appointment", synced[0].fhir_id)

    result = run_sync(fhir_client, session=session)

    assert result.stats["Appointment"].created == 0
    assert result.stats["Appointment"].deleted == 1
    assert len(session.exec(select(Appointment)).all()) == len(synced) - 1


# --- a resource FHIR would refuse is never queued ---------------------------------------------


def test_refill_whose_resource_fhir_refuses_raises_a_plain_error_and_queues_nothing(
    write_back, session, now
):
    # A code with a trailing space, as stored from a careless EHR export: not a valid FHIR code.
    patient = create_patient(session)
    prescriber = create_practitioner(session, name="Dr. Prescriber")
    doctor = create_user(session, Role.CLINICIAN, practitioner_id=prescriber.id)
    user = create_user(session, Role.PATIENT, patient)
    med = create_medication(session, patient, code="860975 ", code_system=RXNORM)
    refills.request_refill(user, patient.id, med.id, pharmacy="Elm St", session=session, now=now)
    item = session.exec(select(TriageItem)).one()

    with pytest.raises(writeback.WriteBackInvalid) as refused:
        refills.decide_refill(doctor, item.id, item.version, approve=True, session=session, now=now)
    session.rollback()

    assert isinstance(refused.value, PortalError)  # the page shows it in words
    message = refused.value.user_message
    assert "prescription renewal" in message and "Nothing was changed or sent" in message
    assert refused.value.fields == ["code"]
    assert _items(session) == []
    assert session.exec(select(RefillRequest)).one().status == "requested"
    with _client(DOWN_URL) as down:
        assert _deliver(down, session, now).attempted == 0


def test_message_resource_without_words_is_refused_before_it_is_queued(now):
    patient = Patient(id=1, fhir_id="pat-1", source="ehr", family_name="Archer")
    thread = MessageThread(id=2, patient_id=1, recipient="care_team", subject="Rash")
    message = Message(id=3, thread_id=2, body="", created_at=now)

    with pytest.raises(writeback.WriteBackInvalid) as refused:
        writeback.communication_resource(thread, message, patient, now=now)

    assert refused.value.fields == ["contentString"]
    assert refused.value.user_message.startswith(
        "This could not be sent to the clinic's health record system: the message"
    )


def test_every_write_back_resource_is_a_validated_model(write_back, session, now):
    """What the outbox holds was built as an R4B model: it parses back as the same resource."""
    _, _, doctor, item = _approve_a_refill(session, now)
    refills.decide_refill(doctor, item.id, item.version, approve=True, session=session, now=now)
    writer = create_patient(session)
    messages.start_thread(
        create_user(session, Role.PATIENT, writer),
        writer.id,
        recipient="care_team",
        subject="Hi",
        body="Hello",
        session=session,
        now=now,
    )
    smith, alice, user = _booking_clinic(session)
    booked = booking_service.book(
        user,
        session=session,
        now=now,
        patient_id=alice.id,
        practitioner_id=smith.id,
        start=WED_9AM,
        visit_type="follow_up",
    )
    booking_service.cancel(user, booked.id, session=session, now=now)

    items = _items(session)
    assert [i.resource_type for i in items] == [
        "MedicationRequest",
        "Communication",
        "Appointment",
        "Appointment",
    ]
    for outbox in items:
        resource = json.loads(outbox.payload)
        parsed = parse_resource(resource)
        assert parsed.model_dump(mode="json") == resource
        assert writeback.is_from_portal(resource)
