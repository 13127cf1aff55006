"""The preventive-care schedule as a readable table: who is eligible, how often, and which record
entries count as "done". Sources: USPSTF (screenings), ADA Standards of Care (diabetes), CDC
adult immunization schedule. Edit this table, not the engine, when a recommendation changes.

Ages are whole years on the day the list is computed; ``max_age`` is inclusive (75 means up to the
day before the 76th birthday). ``interval_months`` None means once in a lifetime. Evidence names
the codes that count as done, each with how long it lasts (a FIT lasts a year, a colonoscopy ten).
"""

from dataclasses import dataclass

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
CVX = "http://hl7.org/fhir/sid/cvx"
ICD10 = "ICD-10"  # prefix match on ICD-10 and ICD-10-CM codes (any system URL naming icd-10)


@dataclass(frozen=True)
class Evidence:
    """Record entries that count as the service being done."""

    source: str  # "observation" (lab LOINC), "report" (DiagnosticReport LOINC),
    # "immunization" (CVX), "encounter" (visit type SNOMED), "procedure" (Procedure SNOMED)
    codes: tuple[str, ...]
    months: int | None = None  # how long it counts; None: the rule's interval


@dataclass(frozen=True)
class ConditionCodes:
    """A condition group: SNOMED codes exactly, ICD-10 codes by prefix (E11 matches E11.9)."""

    name: str
    snomed: tuple[str, ...] = ()
    icd10_prefixes: tuple[str, ...] = ()


DIABETES = ConditionCodes(
    name="diabetes",
    snomed=("44054006", "46635009", "73211009", "190330002", "313436004"),
    icd10_prefixes=("E10", "E11", "E13"),
)


@dataclass(frozen=True)
class PreventiveRule:
    code: str
    name: str
    authority: str
    why: str  # shown to the patient; {age} is filled in
    evidence: tuple[Evidence, ...]
    interval_months: int | None
    min_age: int | None = None
    max_age: int | None = None
    sex: str | None = None  # FHIR administrative gender, or None for everyone
    condition: ConditionCodes | None = None
    # Influenza runs by season: done since the season start (month, day) counts, nothing older.
    season_start: tuple[int, int] | None = None
    # Youngest age in months, for rules that start before the first birthday (flu: 6 months).
    min_age_months: int | None = None
    visit_type: str = "annual"


RULES: tuple[PreventiveRule, ...] = (
    PreventiveRule(
        code="colorectal",
        name="Colorectal cancer screening",
        authority="USPSTF",
        why="Recommended for adults 45 to 75. You are {age}.",
        min_age=45,
        max_age=75,
        interval_months=120,
        evidence=(
            Evidence("observation", ("29771-3", "57905-2", "56490-6", "56491-4"), months=12),
            Evidence("observation", ("77353-1", "77354-9"), months=36),  # stool DNA (FIT-DNA)
            Evidence("report", ("18746-8",), months=120),  # colonoscopy study
            Evidence("encounter", ("73761001",), months=120),  # colonoscopy
            Evidence("procedure", ("73761001",), months=120),  # colonoscopy
            Evidence("procedure", ("44441009",), months=60),  # flexible sigmoidoscopy
        ),
    ),
    PreventiveRule(
        code="mammography",
        name="Breast cancer screening (mammogram)",
        authority="USPSTF",
        why="Recommended every 2 years for women 40 to 74. You are {age}.",
        sex="female",
        min_age=40,
        max_age=74,
        interval_months=24,
        evidence=(
            Evidence("report", ("24606-6", "24604-1", "26175-3", "26346-7")),
            Evidence("encounter", ("24623002", "71651007")),
            # screening, plain, symptomatic mammogram; breast tomosynthesis
            Evidence("procedure", ("24623002", "71651007", "241055006", "450566007")),
        ),
    ),
    PreventiveRule(
        code="cervical",
        name="Cervical cancer screening",
        authority="USPSTF",
        why="Recommended for women 21 to 65: a Pap test every 3 years (or an HPV test every "
        "5 years from 30). You are {age}.",
        sex="female",
        min_age=21,
        max_age=65,
        interval_months=36,
        evidence=(
            Evidence("observation", ("10524-7", "19762-4", "19765-7", "47527-7", "47528-5")),
            Evidence("report", ("10524-7", "47527-7", "47528-5")),
            Evidence("observation", ("21440-3", "30167-1", "59420-0", "77379-6"), months=60),
            Evidence("encounter", ("171149006",)),  # cervical smear screening
            # cervical cytology: smear from a genital source, cervical screening
            Evidence("procedure", ("90226004", "171149006")),
        ),
    ),
    PreventiveRule(
        code="lipids",
        name="Cholesterol (lipid) screening",
        authority="USPSTF",
        why="Adults 40 to 75 should have cholesterol checked about every 5 years to weigh heart "
        "risk. You are {age}.",
        min_age=40,
        max_age=75,
        interval_months=60,
        evidence=(
            Evidence(
                "observation", ("2093-3", "2085-9", "13457-7", "18262-6", "2089-1", "57698-3")
            ),
            Evidence("report", ("57698-3", "24331-1")),
        ),
    ),
    PreventiveRule(
        code="a1c",
        name="Hemoglobin A1c test",
        authority="ADA",
        why="With diabetes, an A1c test about every 6 months shows how well blood sugar is "
        "controlled.",
        condition=DIABETES,
        interval_months=6,
        visit_type="follow_up",
        evidence=(Evidence("observation", ("4548-4", "17856-6", "4549-2")),),
    ),
    PreventiveRule(
        code="diabetic_eye",
        name="Diabetic eye exam",
        authority="ADA",
        why="With diabetes, a dilated eye exam every year finds eye damage early.",
        condition=DIABETES,
        interval_months=12,
        visit_type="follow_up",
        evidence=(
            Evidence("encounter", ("36228007", "410451008", "252779009")),
            # diabetic retinal exam, ophthalmic exam, retinopathy screening, retinal photograph
            Evidence("procedure", ("722161008", "36228007", "410451008", "252779009")),
            Evidence("observation", ("32451-7", "71490-7")),
            Evidence("report", ("32451-7", "71490-7")),
        ),
    ),
    PreventiveRule(
        code="influenza",
        name="Flu vaccine",
        authority="CDC",
        why="Everyone 6 months and older should get a flu vaccine every season.",
        min_age_months=6,
        interval_months=12,
        season_start=(8, 1),
        evidence=(
            Evidence(
                "immunization",
                (
                    "88",
                    "140",
                    "141",
                    "150",
                    "153",
                    "155",
                    "158",
                    "161",
                    "171",
                    "185",
                    "186",
                    "197",
                    "205",
                    "320",
                ),
            ),
        ),
    ),
    PreventiveRule(
        code="td_tdap",
        name="Tetanus and diphtheria booster (Td/Tdap)",
        authority="CDC",
        why="Adults need a Td or Tdap booster every 10 years.",
        min_age=19,
        interval_months=120,
        evidence=(Evidence("immunization", ("09", "113", "115", "138", "139", "196")),),
    ),
    PreventiveRule(
        code="pneumococcal",
        name="Pneumococcal vaccine",
        authority="CDC",
        why="Recommended once for adults 65 and older. You are {age}.",
        min_age=65,
        interval_months=None,
        evidence=(Evidence("immunization", ("33", "109", "133", "152", "215", "216", "327")),),
    ),
)

RULES_BY_CODE = {rule.code: rule for rule in RULES}
