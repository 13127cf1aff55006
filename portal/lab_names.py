"""Short, familiar names for common tests (LOINC code -> name), and which codes are one analyte.

EHRs send LOINC's long names ("Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct
assay"), which are precise but hard to scan on a results list. A test that is not here keeps the
name the EHR sent.

LOINC gives the same analyte (its "component") a different code per specimen (serum or blood),
per property (mass or moles per volume) and per method. A patient reads those as one test, so
ANALYTES groups them: one entry in the test list and one trend. Each result keeps its own name
in the tables ("Glucose (blood)"), so the specimen stays visible.
"""

from dataclasses import dataclass

FAMILIAR_NAMES: dict[str, str] = {
    # Diabetes
    "4548-4": "Hemoglobin A1c",
    "17856-6": "Hemoglobin A1c",
    "2345-7": "Glucose",
    "2339-0": "Glucose (blood)",
    "41653-7": "Glucose (fingerstick)",
    "14749-6": "Glucose",
    "15074-8": "Glucose (blood)",
    # Lipids
    "2093-3": "Total cholesterol",
    "18262-6": "LDL cholesterol",
    "13457-7": "LDL cholesterol",
    "2089-1": "LDL cholesterol",
    "2085-9": "HDL cholesterol",
    "2571-8": "Triglycerides",
    "14647-2": "Total cholesterol",
    "22748-8": "LDL cholesterol",
    "14646-4": "HDL cholesterol",
    "14927-8": "Triglycerides",
    # Metabolic panel
    "2951-2": "Sodium",
    "2823-3": "Potassium",
    "2075-0": "Chloride",
    "2028-9": "Carbon dioxide (bicarbonate)",
    "2160-0": "Creatinine",
    "38483-4": "Creatinine (blood)",
    "14682-9": "Creatinine",
    "2947-0": "Sodium (blood)",
    "6298-4": "Potassium (blood)",
    "2069-3": "Chloride (blood)",
    "20565-8": "Carbon dioxide (blood)",
    "6299-2": "Urea nitrogen (blood)",
    "49765-1": "Calcium (blood)",
    "48642-3": "eGFR (kidney filtration)",
    "48643-1": "eGFR (kidney filtration)",
    "77147-7": "eGFR (kidney filtration)",
    "98979-8": "eGFR (kidney filtration)",
    "5803-2": "Urine pH",
    "3094-0": "Urea nitrogen (BUN)",
    "17861-6": "Calcium",
    "62238-1": "eGFR (kidney filtration)",
    "33914-3": "eGFR (kidney filtration)",
    "2885-2": "Total protein",
    "1751-7": "Albumin",
    "1975-2": "Bilirubin",
    "6768-6": "Alkaline phosphatase",
    "1742-6": "ALT (liver enzyme)",
    "1920-8": "AST (liver enzyme)",
    # Blood count
    "718-7": "Hemoglobin",
    "6690-2": "White blood cells",
    "777-3": "Platelets",
    "789-8": "Red blood cells",
    "4544-3": "Hematocrit",
    # Thyroid and others
    "3016-3": "TSH (thyroid)",
    "14959-1": "Urine albumin/creatinine ratio",
    "9318-7": "Urine albumin/creatinine ratio",
    "2857-1": "PSA",
    "1989-3": "Vitamin D",
    # Vital signs
    "8480-6": "Systolic blood pressure",
    "8462-4": "Diastolic blood pressure",
    "29463-7": "Weight",
    "8302-2": "Height",
    "39156-5": "BMI",
    "8867-4": "Heart rate",
    "59408-5": "Oxygen saturation",
    "2708-6": "Oxygen saturation",
    "8310-5": "Temperature",
    "9279-1": "Breathing rate",
}


def familiar_test_name(code: str | None, display: str | None) -> str:
    """The familiar name of a test, else the EHR's display, else the code."""
    return FAMILIAR_NAMES.get((code or "").strip()) or display or code or "Unnamed test"


@dataclass(frozen=True)
class Analyte:
    """One thing measured, whatever the specimen, property or method of its LOINC codes."""

    key: str  # also names the analyte's unit conversions (portal/services/results_units.py)
    name: str
    codes: tuple[str, ...]


ANALYTES: tuple[Analyte, ...] = (
    Analyte("glucose", "Glucose", ("2345-7", "2339-0", "41653-7", "14749-6", "15074-8")),
    Analyte("a1c", "Hemoglobin A1c", ("4548-4", "17856-6")),
    Analyte("cholesterol", "Total cholesterol", ("2093-3", "14647-2")),
    Analyte("ldl", "LDL cholesterol", ("18262-6", "13457-7", "2089-1", "22748-8")),
    Analyte("hdl", "HDL cholesterol", ("2085-9", "14646-4")),
    Analyte("triglycerides", "Triglycerides", ("2571-8", "14927-8")),
    Analyte("creatinine", "Creatinine", ("2160-0", "38483-4", "14682-9")),
    Analyte("sodium", "Sodium", ("2951-2", "2947-0")),
    Analyte("potassium", "Potassium", ("2823-3", "6298-4")),
    Analyte("chloride", "Chloride", ("2075-0", "2069-3")),
    Analyte("bicarbonate", "Carbon dioxide (bicarbonate)", ("2028-9", "20565-8")),
    Analyte("urea_nitrogen", "Urea nitrogen (BUN)", ("3094-0", "6299-2")),
    Analyte("calcium", "Calcium", ("17861-6", "49765-1")),
    Analyte(
        "egfr",
        "eGFR (kidney filtration)",
        ("62238-1", "33914-3", "48642-3", "48643-1", "77147-7", "98979-8"),
    ),
    Analyte("uacr", "Urine albumin/creatinine ratio", ("14959-1", "9318-7")),
    Analyte("spo2", "Oxygen saturation", ("59408-5", "2708-6")),
    Analyte("urine_ph", "Urine pH", ("5803-2",)),
    # Single codes with a unit the portal can convert (weights, heights, temperatures, ...).
    Analyte("hemoglobin", "Hemoglobin", ("718-7",)),
    Analyte("bilirubin", "Bilirubin", ("1975-2",)),
    Analyte("albumin", "Albumin", ("1751-7",)),
    Analyte("total_protein", "Total protein", ("2885-2",)),
    Analyte("weight", "Weight", ("29463-7",)),
    Analyte("height", "Height", ("8302-2",)),
    Analyte("temperature", "Temperature", ("8310-5",)),
    Analyte("heart_rate", "Heart rate", ("8867-4",)),
)
_ANALYTE_BY_CODE = {code: analyte for analyte in ANALYTES for code in analyte.codes}


def analyte_of(code: str | None) -> Analyte | None:
    return _ANALYTE_BY_CODE.get((code or "").strip())


def analyte_codes(code: str) -> tuple[str, ...]:
    """Every code measuring what ``code`` measures (``code`` alone for an unknown test)."""
    analyte = analyte_of(code)
    return analyte.codes if analyte else (code,)


def analyte_name(code: str | None, display: str | None) -> str:
    """The name of the test a result belongs to: its analyte's, else its own familiar name."""
    analyte = analyte_of(code)
    return analyte.name if analyte else familiar_test_name(code, display)
