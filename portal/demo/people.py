"""The demo clinic's people: its clinicians, and made-up patient demographics.

Names, phones (555-01xx is reserved for fiction) and addresses are invented; example.com mail
addresses can never reach anyone.
"""

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from portal.demo.fhir import coding

MRN_SYSTEM = "https://riverside-family-clinic.example/mrn"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
DEGREE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0360"
IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"


@dataclass(frozen=True)
class Clinician:
    fhir_id: str
    given: str
    family: str
    gender: str
    degree: str
    degree_display: str
    sees_children: bool = False

    @property
    def label(self) -> str:
        prefix = "Dr. " if self.degree in ("MD", "DO") else ""
        return f"{prefix}{self.given} {self.family}, {self.degree}"


CLINICIANS = (
    Clinician("demo-prac-01", "Anika", "Patel", "female", "MD", "Doctor of Medicine"),
    Clinician("demo-prac-02", "Marcus", "Okafor", "male", "MD", "Doctor of Medicine"),
    Clinician("demo-prac-03", "Elena", "Rossi", "female", "DO", "Doctor of Osteopathy"),
    Clinician("demo-prac-04", "James", "Whitfield", "male", "MD", "Doctor of Medicine", True),
    Clinician("demo-prac-05", "Grace", "Kim", "female", "NP", "Nurse Practitioner", True),
    Clinician("demo-prac-06", "Daniel", "Reyes", "male", "PA", "Physician Assistant"),
)
PHYSICIANS = tuple(c for c in CLINICIANS if c.degree in ("MD", "DO"))
PEDIATRIC = tuple(c for c in CLINICIANS if c.sees_children)
# Acute visits often go to whoever has a same-day slot.
SAME_DAY = tuple(c for c in CLINICIANS if c.degree in ("NP", "PA"))


def practitioner_resource(clinician: Clinician, number: int) -> dict[str, Any]:
    name: dict[str, Any] = {
        "use": "official",
        "family": clinician.family,
        "given": [clinician.given],
    }
    if clinician.degree in ("MD", "DO"):
        name["prefix"] = ["Dr."]
    name["suffix"] = [clinician.degree]
    return {
        "resourceType": "Practitioner",
        "id": clinician.fhir_id,
        "identifier": [{"system": NPI_SYSTEM, "value": f"99900000{number:02d}"}],
        "active": True,
        "name": [name],
        "telecom": [{"system": "phone", "value": f"+1-518-555-01{number:02d}", "use": "work"}],
        "gender": clinician.gender,
        "qualification": [
            {
                "code": {
                    "coding": [coding(DEGREE_SYSTEM, clinician.degree, clinician.degree_display)],
                    "text": clinician.degree_display,
                }
            }
        ],
    }


# --- patients ----------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FEMALE_NAMES = _words(
    "Olivia Emma Ava Sophia Isabella Mia Amelia Harper Evelyn Abigail Emily Ella Grace Chloe "
    "Victoria Aaliyah Lucia Maya Nora Hannah Priya Mei Fatima Rosa Linda Patricia Barbara Susan "
    "Margaret Dorothy Carol Janet Ruth Denise Gloria Teresa Ana Keisha Aisha Yuki"
)
MALE_NAMES = _words(
    "Liam Noah Oliver Elijah James William Benjamin Lucas Henry Mateo Ethan Samuel David Joseph "
    "Carlos Luis Omar Wei Hiroshi Raj Andre Malik Thomas Richard Robert Michael Charles George "
    "Frank Walter Harold Eugene Ronald Kenneth Dennis Victor Ivan Tariq Kofi"
)
FAMILY_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Thompson White Harris Clark "
    "Lewis Robinson Walker Young Allen Nguyen Wright Scott Torres Hill Flores Green Adams Nelson "
    "Baker Hall Rivera Campbell Mitchell Carter Roberts Chen Okoye Kowalski Novak Haddad Sato "
    "Brennan Lindqvist Alvarez Morales Ortiz Patel Shah Kim Park"
)
SPANISH_FAMILY_NAMES = frozenset(
    _words(
        "Garcia Rodriguez Martinez Hernandez Lopez Gonzalez "
        "Torres Flores Rivera Alvarez Morales Ortiz"
    )
)
STREETS = (
    "Maple Avenue",
    "Oak Street",
    "River Road",
    "Elm Street",
    "Hudson Way",
    "Mill Lane",
    "Church Street",
    "Pine Ridge Drive",
    "Lakeview Terrace",
    "Orchard Court",
    "Spring Street",
    "Cedar Lane",
)
TOWNS = (
    ("Riverside", "12180"),
    ("Maple Grove", "12182"),
    ("Cedar Falls", "12183"),
    ("Brookhaven", "12186"),
    ("East Landing", "12188"),
)


@dataclass(frozen=True)
class Household:
    """Where a patient lives and how to reach the family: siblings share one."""

    family: str
    street: str
    town: str
    postal_code: str
    phone: str
    language: str


@dataclass(frozen=True)
class Person:
    given: str
    family: str
    sex: str
    birth_date: date
    household: Household

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def random_household(rng: random.Random, number: int) -> Household:
    family = rng.choice(FAMILY_NAMES)
    town, postal_code = rng.choice(TOWNS)
    spanish = family in SPANISH_FAMILY_NAMES and rng.random() < 0.5
    return Household(
        family=family,
        street=f"{rng.randint(2, 980)} {rng.choice(STREETS)}",
        town=town,
        postal_code=postal_code,
        phone=f"+1-518-555-01{number % 100:02d}",
        language="es" if spanish else "en-US",
    )


def random_person(
    rng: random.Random, household: Household, *, age: int, today: date, sex: str | None = None
) -> Person:
    sex = sex or rng.choice(("female", "male"))
    given = rng.choice(FEMALE_NAMES if sex == "female" else MALE_NAMES)
    birth_date = today - timedelta(days=age * 365 + rng.randint(0, 364))
    return Person(given, household.family, sex, birth_date, household)


def random_adult_age(rng: random.Random) -> int:
    # A family practice skews middle-aged and older: that is where the chronic care is.
    return int(min(94, max(18, rng.triangular(18, 92, 60))))


def patient_resource(
    person: Person, *, fhir_id: str, mrn: str, email_tag: str, gp: Clinician
) -> dict[str, Any]:
    home = person.household
    email = f"{person.given}.{person.family}.{email_tag}@example.com".lower()
    return {
        "resourceType": "Patient",
        "id": fhir_id,
        "identifier": [
            {
                "use": "usual",
                "type": {"coding": [coding(IDENTIFIER_TYPE_SYSTEM, "MR", "Medical record number")]},
                "system": MRN_SYSTEM,
                "value": mrn,
            }
        ],
        "active": True,
        "name": [{"use": "official", "family": person.family, "given": [person.given]}],
        "telecom": [
            {"system": "phone", "value": home.phone, "use": "home", "rank": 1},
            {"system": "email", "value": email, "use": "home"},
        ],
        "gender": person.sex,
        "birthDate": person.birth_date.isoformat(),
        "address": [
            {
                "use": "home",
                "line": [home.street],
                "city": home.town,
                "state": "NY",
                "postalCode": home.postal_code,
                "country": "US",
            }
        ],
        "communication": [
            {
                "language": {"coding": [coding("urn:ietf:bcp:47", home.language)]},
                "preferred": True,
            }
        ],
        "generalPractitioner": [{"reference": f"Practitioner/{gp.fhir_id}", "display": gp.label}],
    }
