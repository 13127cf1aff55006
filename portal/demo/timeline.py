"""A demo patient's history as events in time: visits, diagnoses, prescriptions, vaccines and
appointments. The resources are built from these in ``record``; the values in ``trends``."""

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.demo import codes
from portal.demo.people import SAME_DAY, Clinician, Person

PHYSICAL = "Annual physical"
FOLLOW_UP = "Follow-up visit"
SICK = "Sick visit"
WELL_CHILD = "Well-child visit"


def clinic_slot(day: date, rng: random.Random, tz: ZoneInfo) -> datetime:
    """A quarter-hour slot in clinic hours (08:00-16:30, Monday to Friday) on or after ``day``."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = rng.randrange(8 * 60, 16 * 60 + 31, 15)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz)


# Identity, not field equality: two visits are never "the same" because they look alike.
@dataclass(frozen=True, eq=False)
class Visit:
    start: datetime
    kind: str
    clinician: Clinician
    acute: codes.Problem | None = None
    minutes: int = 20

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


@dataclass
class DrugCourse:
    drug: codes.Drug
    start: datetime
    prescriber: Clinician
    visit: Visit | None = None
    end: datetime | None = None
    status: str = "active"  # active | stopped | completed


@dataclass
class ProblemCourse:
    problem: codes.Problem
    onset: datetime
    new_in_window: bool
    visit: Visit | None = None
    drugs: list[DrugCourse] = field(default_factory=list)
    abatement: datetime | None = None

    def start_of(self, drug: codes.Drug) -> datetime | None:
        return next((d.start for d in self.drugs if d.drug == drug), None)


@dataclass(frozen=True)
class PlannedAppointment:
    start: datetime
    kind: str
    clinician: Clinician
    status: str  # fulfilled | noshow | cancelled | booked
    reason: str
    visit: Visit | None = None
    minutes: int = 20


# --- which problems --------------------------------------------------------------------------

# Chance of each chronic problem by age band (<30, 30-44, 45-64, 65+).
_PREVALENCE = {
    "diabetes": (0.02, 0.08, 0.22, 0.28),
    "hypertension": (0.03, 0.15, 0.42, 0.62),
    "hyperlipidemia": (0.03, 0.15, 0.38, 0.48),
    "hypothyroidism": (0.02, 0.05, 0.08, 0.1),
    "asthma": (0.09, 0.08, 0.07, 0.06),
    "ckd": (0.0, 0.01, 0.04, 0.12),
}
_BY_KEY = {p.key: p for p in codes.CHRONIC_PROBLEMS}


def _age_band(age: int) -> int:
    return 0 if age < 30 else 1 if age < 45 else 2 if age < 65 else 3


def choose_problems(rng: random.Random, age: int, sex: str) -> dict[codes.Problem, bool]:
    """Chronic problems -> whether each was diagnosed inside the history window (vs. before)."""
    if age < 18:
        return {codes.ASTHMA: rng.random() < 0.4} if rng.random() < 0.12 else {}
    chosen: dict[codes.Problem, bool] = {}
    for key, chances in _PREVALENCE.items():
        chance = chances[_age_band(age)]
        if key == "hypothyroidism" and sex == "female":
            chance *= 2.5
        if rng.random() < chance:
            chosen[_BY_KEY[key]] = rng.random() < 0.3
    return chosen


# --- visits ------------------------------------------------------------------------------------


def plan_visits(
    rng: random.Random,
    person: Person,
    *,
    since: date,
    now: datetime,
    gp: Clinician,
    follow_up_days: tuple[int, int],
    tz: ZoneInfo,
) -> list[Visit]:
    """Routine visits from ``since`` until ``now``: a yearly physical (well-child visit for
    children), follow-ups in between for chronic care, and a few sick visits."""
    child = person.age_on(since) < 18
    visits: list[Visit] = []
    day = since + timedelta(days=rng.randint(0, 30))
    last_physical: date | None = None
    while day < now.date():
        physical_due = last_physical is None or (day - last_physical).days >= 330
        kind = (WELL_CHILD if child else PHYSICAL) if physical_due else FOLLOW_UP
        visits.append(
            Visit(clinic_slot(day, rng, tz), kind, gp, minutes=30 if physical_due else 20)
        )
        if physical_due:
            last_physical = day
        day += timedelta(days=rng.randint(*follow_up_days))
    years = (now.date() - since).days / 365.25
    sick_rate = 0.9 if child else 0.6
    for _ in range(int(years * sick_rate + rng.random())):
        day = since + timedelta(days=rng.randint(0, (now.date() - since).days))
        clinician = rng.choice(SAME_DAY) if rng.random() < 0.6 else gp
        problem = rng.choice(codes.ACUTE_PROBLEMS)
        visits.append(Visit(clinic_slot(day, rng, tz), SICK, clinician, problem, minutes=15))
    return sorted((v for v in visits if v.end <= now), key=lambda v: v.start)


# --- diagnoses and prescriptions -------------------------------------------------------------


def plan_courses(
    rng: random.Random,
    person: Person,
    chosen: dict[codes.Problem, bool],
    visits: list[Visit],
    *,
    gp: Clinician,
    tz: ZoneInfo,
    diagnose_at_first_visit: bool = False,
) -> list[ProblemCourse]:
    """When each problem began and what was prescribed for it (and for the sick visits)."""
    routine = [v for v in visits if v.kind != SICK]
    first_day = routine[0].start.date() if routine else visits[0].start.date()
    courses = []
    for problem, new in chosen.items():
        if new and routine:
            early = routine[: max(1, len(routine) // 3)]
            visit = routine[0] if diagnose_at_first_visit else rng.choice(early)
            course = ProblemCourse(problem, visit.start, True, visit)
        else:
            earliest = person.birth_date + timedelta(
                days=365 * (18 if problem != codes.ASTHMA else 3)
            )
            onset_day = max(earliest, first_day - timedelta(days=rng.randint(200, 12 * 365)))
            onset_day = min(onset_day, first_day - timedelta(days=1))
            course = ProblemCourse(problem, clinic_slot(onset_day, rng, tz), False)
        _prescribe(rng, course, routine, gp)
        courses.append(course)
    for visit in visits:
        if visit.acute is not None:
            courses.append(_acute_course(rng, visit))
    return courses


def _prescribe(
    rng: random.Random, course: ProblemCourse, routine: list[Visit], gp: Clinician
) -> None:
    prescriber = course.visit.clinician if course.visit else gp

    def start(drug: codes.Drug) -> DrugCourse:
        drug_course = DrugCourse(drug, course.onset, prescriber, course.visit)
        course.drugs.append(drug_course)
        return drug_course

    match course.problem.key:
        case "diabetes":
            start(codes.METFORMIN)
        case "hypertension":
            if course.new_in_window or rng.random() < 0.7:
                start(codes.LISINOPRIL)
            else:
                thiazide = start(codes.HYDROCHLOROTHIAZIDE)
                middle = routine[len(routine) // 2] if len(routine) > 2 else None
                if middle is not None and rng.random() < 0.5:
                    # Switched for low potassium: one stopped request, one new active one.
                    thiazide.end, thiazide.status = middle.start, "stopped"
                    course.drugs.append(
                        DrugCourse(codes.AMLODIPINE, middle.start, middle.clinician, middle)
                    )
        case "hyperlipidemia":
            start(codes.ATORVASTATIN)
        case "hypothyroidism":
            start(codes.LEVOTHYROXINE)
        case "asthma":
            start(codes.ALBUTEROL)
            if rng.random() < 0.5:
                start(codes.FLUTICASONE)


def _acute_course(rng: random.Random, visit: Visit) -> ProblemCourse:
    problem = visit.acute
    assert problem is not None
    course = ProblemCourse(problem, visit.start, True, visit)
    course.abatement = visit.start + timedelta(days=rng.randint(7, 16))
    if problem.key != "bronchitis" and rng.random() < 0.4:
        course.drugs.append(
            DrugCourse(
                codes.AMOXICILLIN,
                visit.start,
                visit.clinician,
                visit,
                end=visit.start + timedelta(days=10),
                status="completed",
            )
        )
    return course


# --- vaccines ----------------------------------------------------------------------------------


def plan_immunizations(
    rng: random.Random, person: Person, *, since: date, now: datetime, tz: ZoneInfo
) -> list[tuple[codes.Vaccine, datetime]]:
    """Vaccines given in the window: yearly flu, COVID boosters, and the age-based ones."""
    given: list[tuple[codes.Vaccine, datetime]] = []

    def give(vaccine: codes.Vaccine, day: date) -> None:
        moment = clinic_slot(day, rng, tz)
        if since <= day and moment < now:
            given.append((vaccine, moment))

    for year in range(since.year, now.year + 1):
        autumn = date(year, 9, 15) + timedelta(days=rng.randint(0, 60))
        age = person.age_on(autumn)
        if rng.random() < 0.7:
            give(codes.FLU, autumn)
        if age >= 18 and year >= 2021 and rng.random() < (0.55 if age >= 65 else 0.3):
            give(codes.COVID, autumn + timedelta(days=rng.randint(0, 20)))
    days = (now.date() - since).days
    age_now = person.age_on(now.date())
    if age_now >= 18:
        if rng.random() < 0.3:
            give(codes.TDAP, since + timedelta(days=rng.randint(0, days)))
        if age_now >= 65 and rng.random() < 0.6:
            give(codes.PCV20, since + timedelta(days=rng.randint(0, days)))
        if age_now >= 50 and rng.random() < 0.35:
            first = since + timedelta(days=rng.randint(0, max(0, days - 200)))
            give(codes.ZOSTER, first)
            give(codes.ZOSTER, first + timedelta(days=rng.randint(60, 180)))
    else:
        school_entry = person.birth_date + timedelta(days=int(4.5 * 365))
        for vaccine in (codes.DTAP, codes.MMR, codes.VARICELLA):
            give(vaccine, school_entry)
        preteen = person.birth_date + timedelta(days=int(11.5 * 365))
        for vaccine in (codes.TDAP, codes.HPV, codes.MENINGOCOCCAL):
            give(vaccine, preteen)
    return sorted(given, key=lambda pair: pair[1])


# --- appointments ------------------------------------------------------------------------------


def plan_appointments(
    rng: random.Random,
    visits: list[Visit],
    *,
    now: datetime,
    gp: Clinician,
    upcoming_in_days: int | None,
    upcoming_kind: str,
    tz: ZoneInfo,
) -> list[PlannedAppointment]:
    """Every visit as a fulfilled appointment, some missed or cancelled ones before routine
    visits, and (if asked) one booked appointment ``upcoming_in_days`` from now."""
    planned = []
    for visit in visits:
        if visit.kind != SICK and rng.random() < 0.14:
            day = visit.start.date() - timedelta(days=rng.randint(7, 21))
            status = "noshow" if rng.random() < 0.5 else "cancelled"
            planned.append(
                PlannedAppointment(
                    clinic_slot(day, rng, tz), visit.kind, visit.clinician, status, visit.kind
                )
            )
        reason = visit.acute.display if visit.acute else visit.kind
        planned.append(
            PlannedAppointment(
                visit.start, visit.kind, visit.clinician, "fulfilled", reason, visit, visit.minutes
            )
        )
    if upcoming_in_days is not None:
        start = clinic_slot(now.astimezone(tz).date() + timedelta(days=upcoming_in_days), rng, tz)
        planned.append(PlannedAppointment(start, upcoming_kind, gp, "booked", upcoming_kind))
    first_visit = visits[0].start if visits else now
    return sorted((a for a in planned if a.start >= first_visit - timedelta(days=30)), key=_start)


def _start(appointment: PlannedAppointment) -> datetime:
    return appointment.start
