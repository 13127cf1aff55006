"""A deterministic generator of a small clinic's FHIR R4 record: six clinicians and any number
of patients, each with 2-5 years of history ending at ``now``.

Everything is drawn from ``random.Random`` instances seeded from (seed, patient number), never
from the global generator, so the same seed and ``now`` give the same resources, patient 17 is
the same whether 20 or 20,000 are generated, and patients can be generated lazily one by one.

Patient 1 is the showcase account (diabetes and high blood pressure diagnosed at the first visit,
improving after treatment, with an upcoming visit); patients 2 and 3 are siblings whose parent
is the demo caregiver.
"""

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from portal.demo import codes
from portal.demo.care_record import showcase_whole_record
from portal.demo.fhir import SNOMED, concept, instant, ref
from portal.demo.people import (
    CLINICIANS,
    FEMALE_NAMES,
    PEDIATRIC,
    Clinician,
    Household,
    Person,
    patient_resource,
    practitioner_resource,
    random_adult_age,
    random_household,
    random_person,
)
from portal.demo.record import PatientRecord
from portal.demo.timeline import (
    FOLLOW_UP,
    PHYSICAL,
    SICK,
    WELL_CHILD,
    ProblemCourse,
    Visit,
    choose_problems,
    plan_appointments,
    plan_courses,
    plan_immunizations,
    plan_visits,
)
from portal.demo.trends import Physiology

CLINIC_TZ = ZoneInfo("America/New_York")
BASE_URL = "https://demo.riverside-family-clinic.example/fhir"
SHOWCASE_PATIENT = 1
SHOWCASE_CHILDREN = (2, 3)
MIN_PATIENTS = 3  # the showcase patient and the two siblings
DR_PATEL = CLINICIANS[0]
ADULT_CLINICIANS = (*CLINICIANS[:3], CLINICIANS[4])


def patient_fhir_id(number: int) -> str:
    return f"demo-pat-{number:04d}"


def practitioner_resources() -> list[dict[str, Any]]:
    return [practitioner_resource(c, n) for n, c in enumerate(CLINICIANS, start=1)]


def collection_bundle(
    resources: Iterable[dict[str, Any]], *, bundle_id: str, now: datetime
) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "collection",
        "timestamp": instant(now),
        "entry": [
            {"fullUrl": f"{BASE_URL}/{r['resourceType']}/{r['id']}", "resource": r}
            for r in resources
        ],
    }


def clinic_bundles(
    n_patients: int,
    *,
    seed: int,
    now: datetime,
    patients_per_bundle: int = 1,
    tz: ZoneInfo = CLINIC_TZ,
) -> Iterator[dict[str, Any]]:
    """The practitioners' bundle, then the patients in bundles of ``patients_per_bundle``,
    generated lazily so 10,000 patients never sit in memory at once."""
    yield collection_bundle(practitioner_resources(), bundle_id="demo-practitioners", now=now)
    for first in range(1, n_patients + 1, patients_per_bundle):
        numbers = range(first, min(n_patients, first + patients_per_bundle - 1) + 1)
        resources = [r for n in numbers for r in patient_resources(n, seed=seed, now=now, tz=tz)]
        yield collection_bundle(resources, bundle_id=f"demo-patients-{first:04d}", now=now)


def caregiver_name(*, seed: int) -> tuple[str, str]:
    """(given, family) of the parent of the showcase siblings: the demo caregiver."""
    given, household = _showcase_family(seed)
    return given, household.family


# --- one patient -------------------------------------------------------------------------------


@dataclass
class Profile:
    person: Person
    problems: dict[codes.Problem, bool]
    gp: Clinician
    history_days: int
    upcoming_in_days: int | None
    showcase: bool = False


def _showcase_family(seed: int) -> tuple[str, Household]:
    rng = random.Random(f"demo:{seed}:family")
    household = random_household(rng, 2)
    return rng.choice(FEMALE_NAMES), household


def _profile(number: int, rng: random.Random, seed: int, today: date) -> Profile:
    history_days = int(rng.uniform(2, 5) * 365)
    if number == SHOWCASE_PATIENT:
        person = random_person(rng, random_household(rng, number), age=58, today=today)
        problems = {codes.DIABETES: True, codes.HYPERTENSION: True, codes.HYPERLIPIDEMIA: False}
        return Profile(person, problems, DR_PATEL, 4 * 365, 8, showcase=True)
    if number in SHOWCASE_CHILDREN:
        _, household = _showcase_family(seed)
        age, sex = (9, "female") if number == SHOWCASE_CHILDREN[0] else (5, "male")
        person = random_person(rng, household, age=age, today=today, sex=sex)
        problems = {codes.ASTHMA: False} if number == SHOWCASE_CHILDREN[0] else {}
        upcoming = 20 if number == SHOWCASE_CHILDREN[0] else None
        return Profile(person, problems, PEDIATRIC[0], 4 * 365, upcoming)
    age = rng.randint(1, 17) if rng.random() < 0.12 else random_adult_age(rng)
    person = random_person(rng, random_household(rng, number), age=age, today=today)
    problems = choose_problems(rng, age, person.sex)
    gp = rng.choice(PEDIATRIC if age < 18 else ADULT_CLINICIANS)
    upcoming_chance = 0.5 if problems and age >= 18 else 0.2
    upcoming = rng.randint(2, 42) if rng.random() < upcoming_chance else None
    return Profile(person, problems, gp, history_days, upcoming)


def _follow_up_days(problems: dict[codes.Problem, bool]) -> tuple[int, int]:
    # New diagnoses and diabetes are seen every three months, stable problems every four or
    # five, and everyone else about twice a year (a physical and a check-in).
    if not problems:
        return (150, 240)
    if codes.DIABETES in problems or any(problems.values()):
        return (75, 105)
    return (110, 150)


def patient_resources(
    number: int, *, seed: int, now: datetime, tz: ZoneInfo = CLINIC_TZ
) -> list[dict[str, Any]]:
    """Every resource of demo patient ``number`` (1-based): Patient first, then the record."""
    rng = random.Random(f"demo:{seed}:patient:{number}")
    today = now.astimezone(tz).date()
    profile = _profile(number, rng, seed, today)
    person, gp = profile.person, profile.gp
    since = today - timedelta(days=profile.history_days)
    visits = plan_visits(
        rng,
        person,
        since=since,
        now=now,
        gp=gp,
        follow_up_days=_follow_up_days(profile.problems),
        tz=tz,
    )
    courses = plan_courses(
        rng,
        person,
        profile.problems,
        visits,
        gp=gp,
        tz=tz,
        diagnose_at_first_visit=profile.showcase,
    )
    origin = datetime.combine(since, datetime.min.time(), tzinfo=tz)
    story = (8.9, 7.1) if profile.showcase else None
    body = Physiology(rng, person, courses, origin=origin, a1c_story=story)
    fhir_id = patient_fhir_id(number)
    record = PatientRecord(number, fhir_id, person, body, now)
    patient = patient_resource(
        person, fhir_id=fhir_id, mrn=f"R{number:06d}", email_tag=str(number), gp=gp
    )
    _add_visits(record, rng, profile, visits, courses, now=now, tz=tz)
    for course in courses:
        record.condition(course)
        for drug_course in course.drugs:
            record.medication_request(drug_course, course.problem)
    _add_allergies(record, rng, profile, visits, since)
    for vaccine, when in plan_immunizations(rng, person, since=since, now=now, tz=tz):
        lot = f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randint(10000, 99999)}"
        record.immunization(vaccine, when, lot)
    _add_summaries(record, rng, visits, courses)
    # Its own random stream, so adding referrals leaves the rest of the demo record unchanged.
    _add_referrals(record, random.Random(f"demo:{seed}:referrals:{number}"), courses, gp, now)
    if profile.showcase:
        record.resources += showcase_whole_record(record.patient, number, now)
    return [patient, *record.resources]


# Chronic problems that send a patient to a specialist: (specialty, SNOMED procedure, why).
_REFERRALS = {
    "diabetes": ("Ophthalmology", "410451008", "Diabetic eye exam"),
    "ckd": ("Nephrology", "306157002", "Referral to nephrology service"),
    "asthma": ("Pulmonology", "306118006", "Referral to respiratory medicine service"),
}


def _add_referrals(
    record: PatientRecord,
    rng: random.Random,
    courses: list[ProblemCourse],
    gp: Clinician,
    now: datetime,
) -> None:
    """ServiceRequests for chronic problems: an older completed one and, often, one in progress."""
    for course in courses:
        referral = _REFERRALS.get(course.problem.key)
        if referral is None:
            continue
        specialty, code, display = referral
        authored = max(course.onset, now - timedelta(days=rng.randint(20, 400)))
        done = authored < now - timedelta(days=120)
        resource = {
            "resourceType": "ServiceRequest",
            "id": record.new_id("referral"),
            "status": "completed" if done else "active",
            "intent": "order",
            "code": concept(SNOMED, code, display),
            "subject": record.patient,
            "authoredOn": instant(authored),
            "requester": ref("Practitioner", gp.fhir_id, f"{gp.given} {gp.family}"),
            "performerType": {"text": specialty},
            "performer": [{"display": f"Riverside {specialty} Associates"}],
            "reasonCode": [{"text": course.problem.display}],
        }
        if not done:
            resource["occurrenceDateTime"] = instant(now + timedelta(days=rng.randint(5, 40)))
        record.resources.append(resource)


def _add_visits(
    record: PatientRecord,
    rng: random.Random,
    profile: Profile,
    visits: list[Visit],
    courses: list[ProblemCourse],
    *,
    now: datetime,
    tz: ZoneInfo,
) -> None:
    """Appointments, the encounters that fulfilled them, and what was measured at each."""
    child = profile.person.age_on(now.date()) < 18
    upcoming_kind = WELL_CHILD if child else (FOLLOW_UP if profile.problems else PHYSICAL)
    planned = plan_appointments(
        rng,
        visits,
        now=now,
        gp=profile.gp,
        upcoming_in_days=profile.upcoming_in_days,
        upcoming_kind=upcoming_kind,
        tz=tz,
    )
    appointment_ids = {id(a): record.appointment_id() for a in planned}
    by_visit = {id(a.visit): appointment_ids[id(a)] for a in planned if a.visit is not None}
    last_done: dict[str, datetime] = {}
    for visit in visits:
        reasons = _reasons(visit, courses)
        record.encounter(visit, reasons, by_visit.get(id(visit)))
        record.vital_signs(visit)
        active = {c.problem.key for c in courses if c.onset <= visit.start and not c.abatement}
        for panel in _panels_for(rng, visit, record.body.age(visit.start), active, last_done):
            record.lab_panel(visit, panel)
            last_done[panel.key] = visit.start
            if panel is codes.CMP:
                last_done[codes.BMP.key] = visit.start
    for appointment in planned:
        created = min(appointment.start, now) - timedelta(days=rng.randint(3, 40))
        record.appointment(appointment_ids[id(appointment)], appointment, created)


def _reasons(visit: Visit, courses: list[ProblemCourse]) -> list[codes.Problem]:
    if visit.acute is not None:
        return [visit.acute]
    if visit.kind != FOLLOW_UP:
        return []
    return [c.problem for c in courses if c.onset <= visit.start and c.abatement is None]


def _panels_for(
    rng: random.Random,
    visit: Visit,
    age: float,
    active: set[str],
    last_done: dict[str, datetime],
) -> list[codes.Panel]:
    """The lab orders a family doctor would place at this visit."""

    def due(panel: codes.Panel, days: int) -> bool:
        last = last_done.get(panel.key)
        return last is None or (visit.start - last).days >= days

    if visit.kind == SICK:
        return [codes.CBC] if age >= 18 and rng.random() < 0.35 else []
    if age < 18:
        return [codes.CBC] if visit.kind == WELL_CHILD and rng.random() < 0.15 else []
    physical = visit.kind == PHYSICAL
    panels = []
    if physical or "diabetes" in active:
        panels.append(codes.A1C)
    if physical:
        panels.append(codes.CMP)  # the basic panel plus liver tests, once a year
    elif active & {"diabetes", "ckd"} or ("hypertension" in active and due(codes.BMP, 150)):
        panels.append(codes.BMP)
    if physical or ("ckd" in active and due(codes.CBC, 150)):
        panels.append(codes.CBC)
    lipid_days = 150 if "hyperlipidemia" in active else 330
    if physical or (active & {"hyperlipidemia", "diabetes"} and due(codes.LIPIDS, lipid_days)):
        panels.append(codes.LIPIDS)
    if ("hypothyroidism" in active and due(codes.THYROID, 100)) or (
        physical and rng.random() < 0.25
    ):
        panels.append(codes.THYROID)
    return panels


def _add_allergies(
    record: PatientRecord,
    rng: random.Random,
    profile: Profile,
    visits: list[Visit],
    since: date,
) -> None:
    if profile.showcase:
        chosen = [codes.ALLERGENS[0]]
    elif rng.random() < 0.45:
        return  # "No known allergies" is the most common answer
    else:
        chosen = rng.sample(codes.ALLERGENS, 2 if rng.random() < 0.2 else 1)
    recorded = visits[0].start if visits else datetime.combine(since, time(9), tzinfo=CLINIC_TZ)
    for allergen in chosen:
        record.allergy(allergen, recorded)


def _add_summaries(
    record: PatientRecord, rng: random.Random, visits: list[Visit], courses: list[ProblemCourse]
) -> None:
    """After-visit summaries for the latest visits (and now and then an older one)."""
    chosen = visits[-2:]
    if len(visits) > 4 and rng.random() < 0.3:
        chosen = [rng.choice(visits[:-2]), *chosen]
    for visit in chosen:
        current = [c for c in courses if c.onset <= visit.start and c.abatement is None]
        problems = [c.problem.display for c in current]
        medicines = [
            f"{d.drug.short_name}: {d.drug.dosage.lower()}"
            for c in courses
            for d in c.drugs
            if d.start <= visit.start and (d.end is None or d.end > visit.start)
        ]
        record.visit_summary(visit, problems, medicines)
