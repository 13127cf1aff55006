"""Hostile text in every field a patient types or the EHR sends, for the injection tests (AppTest
and Chromium). Each string carries a marker ``ZQ<tag>`` so a test can find where it is shown, and
Markdown, HTML and Streamlit syntax that would fetch from, or link to, ``host`` if it were ever
rendered: an image, a link, raw HTML, :red[...], :material/icon:, $maths$, bold and a heading.

Everything is planted on a new patient (with their own portal account), so a shared database
(the browser tests' demo clinic) keeps its other records as they were."""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from db.models import (
    AllergyIntolerance,
    Booking,
    CheckIn,
    CheckInAnswer,
    Condition,
    Document,
    Encounter,
    Immunization,
    MedicationRequest,
    Observation,
    ObservationCategory,
    OutboxItem,
    Patient,
    Practitioner,
    QuarantinedResource,
    Role,
    SyncRun,
    User,
)
from portal.services import messages, profile_changes, referrals, refills
from portal.services.attachments import Upload
from portal.services.readings import goals
from portal.services.scheduling import visit_requests

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def hostile(tag: str, host: str) -> str:
    """One line of hostile text, under 200 characters (the shortest column it goes into) with any
    127.0.0.1 port."""
    return (
        f"# ZQ{tag} ![p](http://{host}/p.png) [click](http://{host}/phish) :red[URGENT] "
        f"<img src=http://{host}/i.png> $\\alpha$ **bold** :100: :material/warning:"
    )


def hostile_file_name(host: str) -> str:
    """A file name cannot hold "/" (only the last path part is kept): no URL path, a bare host."""
    return (
        f"# ZQfile ![p](http:{host}) [click](www.{host}) :red[URGENT] <img src=x> $x^2$ "
        "**bold**.png"
    )


@dataclass
class Planted:
    """The hostile strings by tag, and the accounts and rows a test needs to reach them."""

    strings: dict[str, str] = field(default_factory=dict)
    patient_id: int = 0
    username: str = ""
    practitioner_id: int = 0
    visit_start: datetime | None = None

    def marker(self, tag: str) -> str:
        return f"ZQ{tag}"


def _fhir_id(kind: str) -> str:
    return f"hostile-{kind}-{uuid.uuid4().hex[:10]}"


def plant(
    session: Session, *, host: str, password_hash: str, now: datetime | None = None
) -> Planted:
    """A patient named with hostile text, their account, EHR rows and portal requests carrying
    hostile text, a visit with a hostile check-in answer, and hostile sync errors."""
    now = now or datetime.now(UTC)
    planted = Planted()
    text = planted.strings

    def s(tag: str) -> str:
        text[tag] = hostile(tag, host)
        return text[tag]

    patient = Patient(
        fhir_id=_fhir_id("patient"),
        mrn=f"ZQ{uuid.uuid4().hex[:8]}",
        given_name=s("name"),
        family_name="Hostile",
        given_name_lower=text["name"].lower(),
        family_name_lower="hostile",
        birth_date=date(1970, 3, 4),
        sex="female",
        address=s("address"),
        phone="555-0100",
    )
    doctor = Practitioner(fhir_id=_fhir_id("practitioner"), name=s("doctor"))
    session.add_all([patient, doctor])
    session.flush()
    username = f"hostile{uuid.uuid4().hex[:6]}"
    user = User(
        username=username,
        password_hash=password_hash,
        role=Role.PATIENT,
        display_name=s("user"),
        patient_id=patient.id,
    )
    med = MedicationRequest(
        fhir_id=_fhir_id("med"),
        patient_id=patient.id,
        display=s("med"),
        dosage_text=s("dose"),
        authored_on=now - timedelta(days=90),
    )
    session.add_all(
        [
            user,
            med,
            Condition(
                fhir_id=_fhir_id("cond"),
                patient_id=patient.id,
                display=s("condition"),
                clinical_status="active",
                onset_date=date(2020, 5, 1),
            ),
            AllergyIntolerance(
                fhir_id=_fhir_id("allergy"),
                patient_id=patient.id,
                display=s("allergy"),
                reaction=s("reaction"),
                clinical_status="active",
            ),
            Immunization(
                fhir_id=_fhir_id("imm"),
                patient_id=patient.id,
                display=s("vaccine"),
                occurrence=now - timedelta(days=200),
            ),
            Encounter(
                fhir_id=_fhir_id("enc"),
                patient_id=patient.id,
                type_display=s("encounter"),
                reason=s("visitreason"),
                start=now - timedelta(days=30),
            ),
            Observation(
                fhir_id=_fhir_id("obs"),
                patient_id=patient.id,
                category=ObservationCategory.LABORATORY.value,
                code="99999-1",  # not a LOINC the portal names itself: the EHR text is shown
                display=s("lab"),
                value=5.4,
                unit="mmol/L",
                effective_at=now - timedelta(days=3),
            ),
            Document(
                fhir_id=_fhir_id("doc"),
                patient_id=patient.id,
                type_display="Visit note",
                title=s("document"),
                description=s("docdesc"),
                date=now - timedelta(days=30),
                content_type="text/plain",
                text="Plain note.",
            ),
        ]
    )
    session.commit()
    for row in (patient, user, med, doctor):
        session.refresh(row)

    messages.start_thread(
        user,
        patient.id,
        recipient="care_team",
        subject=s("subject"),
        body=s("body"),
        uploads=[Upload(hostile_file_name(host), PNG)],
        session=session,
        now=now,
    )
    text["file"] = hostile_file_name(host)
    refills.request_refill(
        user, patient.id, med.id, pharmacy=s("pharmacy"), note=s("note"), session=session, now=now
    )
    referrals.request_referral(
        user,
        session=session,
        now=now,
        patient_id=patient.id,
        specialty=referrals.SPECIALTIES[0],
        reason=s("reason"),
        preferred_provider=s("provider"),
    )
    profile_changes.request_changes(
        user, patient.id, {"emergency_contact": s("contact")}, session=session, now=now
    )
    visit_requests.request_visit(
        user,
        session=session,
        now=now,
        patient_id=patient.id,
        visit_type="follow_up",
        preferred_times=s("times"),
        reason=s("visit"),
    )
    goals.set_goal(
        user, patient.id, session=session, now=now, kind="weight_at_most", target=70, note=s("goal")
    )

    # A visit later today with the hostile doctor, checked in with a hostile answer.
    start = (now + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    visit = Booking(
        patient_id=patient.id,
        practitioner_id=doctor.id,
        start=start,
        end=start + timedelta(minutes=20),
        visit_type="follow_up",
        booked_by_user_id=user.id,
    )
    session.add(visit)
    session.flush()
    checkin = CheckIn(booking_id=visit.id, patient_id=patient.id, questionnaire="general")
    session.add(checkin)
    session.flush()
    session.add(
        CheckInAnswer(
            checkin_id=checkin.id,
            question_code="concerns",
            question_text="What would you like to discuss at this visit?",
            answer_text=s("answer"),
        )
    )
    # What the EHR and its server said, as the sync admin page shows it.
    session.add_all(
        [
            QuarantinedResource(
                resource_type="Observation",
                fhir_id=_fhir_id("bad"),
                reason=s("quarantine"),
                raw_json='{"resourceType": "Observation"}',
                received_at=now,
            ),
            SyncRun(
                trigger="schedule",
                status="failed",
                started_at=now - timedelta(minutes=5),
                finished_at=now - timedelta(minutes=4),
                errors=s("syncerror"),
            ),
            OutboxItem(
                kind="message",
                resource_type="Communication",
                fhir_id=_fhir_id("out"),
                payload="{}",
                status="stuck",
                attempts=9,
                last_error=s("outbox"),
            ),
        ]
    )
    session.commit()
    planted.patient_id = patient.id
    planted.username = username
    planted.practitioner_id = doctor.id
    planted.visit_start = start
    return planted
