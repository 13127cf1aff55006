"""Short, familiar names for common tests (LOINC code -> name).

EHRs send LOINC's long names ("Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct
assay"), which are precise but hard to scan on a results list. A test that is not here keeps the
name the EHR sent.
"""

FAMILIAR_NAMES: dict[str, str] = {
    # Diabetes
    "4548-4": "Hemoglobin A1c",
    "17856-6": "Hemoglobin A1c",
    "2345-7": "Glucose",
    "2339-0": "Glucose",
    # Lipids
    "2093-3": "Total cholesterol",
    "18262-6": "LDL cholesterol",
    "13457-7": "LDL cholesterol",
    "2089-1": "LDL cholesterol",
    "2085-9": "HDL cholesterol",
    "2571-8": "Triglycerides",
    # Metabolic panel
    "2951-2": "Sodium",
    "2823-3": "Potassium",
    "2075-0": "Chloride",
    "2028-9": "Carbon dioxide (bicarbonate)",
    "2160-0": "Creatinine",
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
