"""The code tables the demo clinic draws from: SNOMED problems, RxNorm drugs, CVX vaccines,
LOINC tests with UCUM units and adult reference ranges. Codes, not words, are what the portal
keys on, so each entry carries its system's code and display."""

from dataclasses import dataclass

# --- problems and the drugs that treat them --------------------------------------------------


@dataclass(frozen=True)
class Problem:
    key: str
    snomed: str
    display: str
    icd10: str
    icd10_display: str


DIABETES = Problem(
    "diabetes", "44054006", "Diabetes mellitus type 2", "E11.9", "Type 2 diabetes mellitus"
)
HYPERTENSION = Problem(
    "hypertension", "59621000", "Essential hypertension", "I10", "Essential (primary) hypertension"
)
HYPERLIPIDEMIA = Problem(
    "hyperlipidemia", "55822004", "Hyperlipidemia", "E78.5", "Hyperlipidemia, unspecified"
)
HYPOTHYROIDISM = Problem(
    "hypothyroidism", "40930008", "Hypothyroidism", "E03.9", "Hypothyroidism, unspecified"
)
ASTHMA = Problem("asthma", "195967001", "Asthma", "J45.909", "Unspecified asthma, uncomplicated")
CKD = Problem(
    "ckd",
    "433144002",
    "Chronic kidney disease stage 3",
    "N18.30",
    "Chronic kidney disease, stage 3 unspecified",
)
CHRONIC_PROBLEMS = (DIABETES, HYPERTENSION, HYPERLIPIDEMIA, HYPOTHYROIDISM, ASTHMA, CKD)

# Short, resolved illnesses that bring a patient in between routine visits.
ACUTE_PROBLEMS = (
    Problem("sinusitis", "444814009", "Viral sinusitis", "J01.90", "Acute sinusitis, unspecified"),
    Problem("bronchitis", "10509002", "Acute bronchitis", "J20.9", "Acute bronchitis, unspecified"),
    Problem("pharyngitis", "195662009", "Acute viral pharyngitis", "J02.9", "Acute pharyngitis"),
)


@dataclass(frozen=True)
class Drug:
    rxnorm: str
    display: str
    short_name: str
    dosage: str


METFORMIN = Drug(
    "860975",
    "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
    "Metformin ER 500 mg",
    "Take 1 tablet by mouth twice daily with meals",
)
LISINOPRIL = Drug(
    "314076", "lisinopril 10 MG Oral Tablet", "Lisinopril 10 mg", "Take 1 tablet by mouth daily"
)
AMLODIPINE = Drug(
    "197361", "amlodipine 5 MG Oral Tablet", "Amlodipine 5 mg", "Take 1 tablet by mouth daily"
)
HYDROCHLOROTHIAZIDE = Drug(
    "310798",
    "hydrochlorothiazide 25 MG Oral Tablet",
    "Hydrochlorothiazide 25 mg",
    "Take 1 tablet by mouth every morning",
)
ATORVASTATIN = Drug(
    "617310",
    "atorvastatin 20 MG Oral Tablet",
    "Atorvastatin 20 mg",
    "Take 1 tablet by mouth at bedtime",
)
LEVOTHYROXINE = Drug(
    "966222",
    "levothyroxine sodium 0.075 MG Oral Tablet",
    "Levothyroxine 75 mcg",
    "Take 1 tablet by mouth every morning on an empty stomach",
)
ALBUTEROL = Drug(
    "745679",
    "200 ACTUAT albuterol 0.09 MG/ACTUAT Metered Dose Inhaler",
    "Albuterol inhaler",
    "Inhale 2 puffs every 4-6 hours as needed for wheezing",
)
FLUTICASONE = Drug(
    "895994",
    "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler",
    "Fluticasone inhaler 44 mcg",
    "Inhale 2 puffs twice daily; rinse mouth after use",
)
AMOXICILLIN = Drug(
    "308182",
    "amoxicillin 250 MG Oral Capsule",
    "Amoxicillin 250 mg",
    "Take 2 capsules by mouth three times daily for 10 days",
)

# --- allergies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allergen:
    snomed: str
    display: str
    category: str  # food | medication | environment
    reaction_snomed: str
    reaction_display: str
    criticality: str  # low | high


ALLERGENS = (
    Allergen("764146007", "Penicillin", "medication", "247472004", "Hives", "high"),
    Allergen("387406002", "Sulfamethoxazole", "medication", "271807003", "Skin rash", "low"),
    Allergen("387458008", "Aspirin", "medication", "422587007", "Nausea", "low"),
    Allergen("256349002", "Peanut", "food", "39579001", "Anaphylaxis", "high"),
    Allergen("111088007", "Latex", "environment", "271807003", "Skin rash", "low"),
    Allergen("256259004", "Pollen", "environment", "76067001", "Sneezing", "low"),
)

# --- vaccines (CVX) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Vaccine:
    cvx: str
    display: str


FLU = Vaccine("150", "Influenza, injectable, quadrivalent, preservative free")
TDAP = Vaccine("115", "Tdap")
COVID = Vaccine("213", "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION")
PCV20 = Vaccine("216", "Pneumococcal conjugate PCV20, polysaccharide CRM197, preservative free")
ZOSTER = Vaccine("187", "zoster vaccine recombinant")
DTAP = Vaccine("20", "DTaP")
MMR = Vaccine("03", "MMR")
VARICELLA = Vaccine("21", "varicella")
HPV = Vaccine("165", "HPV9")
MENINGOCOCCAL = Vaccine("114", "meningococcal MCV4P")

# --- tests (LOINC) -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Test:
    loinc: str
    name: str  # what a patient reads; ``display`` is LOINC's own name
    display: str
    unit: str
    ucum: str
    low: float | None
    high: float | None
    decimals: int
    # Some ranges differ by sex: (low, high) for female patients when it does.
    female_range: tuple[float | None, float | None] | None = None

    def reference_range(self, sex: str) -> tuple[float | None, float | None]:
        if sex == "female" and self.female_range is not None:
            return self.female_range
        return self.low, self.high


HBA1C = Test(
    "4548-4", "Hemoglobin A1c", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", "%", 4.0, 5.6, 1
)
CHOLESTEROL = Test(
    "2093-3",
    "Total cholesterol",
    "Cholesterol [Mass/volume] in Serum or Plasma",
    "mg/dL",
    "mg/dL",
    None,
    200,
    0,
)
LDL = Test(
    "18262-6",
    "LDL cholesterol",
    "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
    "mg/dL",
    "mg/dL",
    None,
    100,
    0,
)
HDL = Test(
    "2085-9",
    "HDL cholesterol",
    "Cholesterol in HDL [Mass/volume] in Serum or Plasma",
    "mg/dL",
    "mg/dL",
    40,
    None,
    0,
)
TRIGLYCERIDES = Test(
    "2571-8",
    "Triglycerides",
    "Triglyceride [Mass/volume] in Serum or Plasma",
    "mg/dL",
    "mg/dL",
    None,
    150,
    0,
)
GLUCOSE = Test(
    "2345-7", "Glucose", "Glucose [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 70, 99, 0
)
SODIUM = Test(
    "2951-2", "Sodium", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", "mmol/L", 136, 145, 0
)
POTASSIUM = Test(
    "2823-3",
    "Potassium",
    "Potassium [Moles/volume] in Serum or Plasma",
    "mmol/L",
    "mmol/L",
    3.5,
    5.1,
    1,
)
CREATININE = Test(
    "2160-0",
    "Creatinine",
    "Creatinine [Mass/volume] in Serum or Plasma",
    "mg/dL",
    "mg/dL",
    0.74,
    1.35,
    2,
    female_range=(0.59, 1.04),
)
BUN = Test(
    "3094-0",
    "Urea nitrogen (BUN)",
    "Urea nitrogen [Mass/volume] in Serum or Plasma",
    "mg/dL",
    "mg/dL",
    7,
    20,
    0,
)
CALCIUM = Test(
    "17861-6", "Calcium", "Calcium [Mass/volume] in Serum or Plasma", "mg/dL", "mg/dL", 8.6, 10.3, 1
)
EGFR = Test(
    "62238-1",
    "eGFR (kidney function)",
    "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum, Plasma or Blood"
    " by Creatinine-based formula (CKD-EPI)",
    "mL/min/1.73m2",
    "mL/min/{1.73_m2}",
    60,
    None,
    0,
)
HEMOGLOBIN = Test(
    "718-7",
    "Hemoglobin",
    "Hemoglobin [Mass/volume] in Blood",
    "g/dL",
    "g/dL",
    13.5,
    17.5,
    1,
    female_range=(12.0, 15.5),
)
WBC = Test(
    "6690-2",
    "White blood cells",
    "Leukocytes [#/volume] in Blood by Automated count",
    "10^3/uL",
    "10*3/uL",
    4.5,
    11.0,
    1,
)
PLATELETS = Test(
    "777-3",
    "Platelets",
    "Platelets [#/volume] in Blood by Automated count",
    "10^3/uL",
    "10*3/uL",
    150,
    400,
    0,
)
TSH = Test(
    "3016-3",
    "TSH (thyroid)",
    "Thyrotropin [Units/volume] in Serum or Plasma",
    "mIU/L",
    "m[IU]/L",
    0.4,
    4.0,
    2,
)

# Vital signs. Blood pressure is one panel Observation with two components.
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
SYSTOLIC = Test(
    "8480-6", "Systolic blood pressure", "Systolic blood pressure", "mmHg", "mm[Hg]", 90, 130, 0
)
DIASTOLIC = Test(
    "8462-4", "Diastolic blood pressure", "Diastolic blood pressure", "mmHg", "mm[Hg]", 60, 80, 0
)
BODY_WEIGHT = Test("29463-7", "Weight", "Body weight", "kg", "kg", None, None, 1)
BMI = Test(
    "39156-5",
    "Body mass index (BMI)",
    "Body mass index (BMI) [Ratio]",
    "kg/m2",
    "kg/m2",
    18.5,
    25.0,
    1,
)
HEART_RATE = Test("8867-4", "Heart rate", "Heart rate", "beats/min", "/min", 60, 100, 0)


@dataclass(frozen=True)
class Panel:
    """A lab order whose results come back together under one DiagnosticReport."""

    key: str
    loinc: str
    display: str
    tests: tuple[Test, ...]


BMP = Panel(
    "bmp",
    "51990-0",
    "Basic metabolic panel - Blood",
    (GLUCOSE, SODIUM, POTASSIUM, CREATININE, BUN, CALCIUM, EGFR),
)
ALT = Test(
    "1742-6",
    "ALT (liver)",
    "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
    "U/L",
    "U/L",
    7,
    56,
    0,
)
AST = Test(
    "1920-8",
    "AST (liver)",
    "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma",
    "U/L",
    "U/L",
    10,
    40,
    0,
)
ALKALINE_PHOSPHATASE = Test(
    "6768-6",
    "Alkaline phosphatase",
    "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma",
    "U/L",
    "U/L",
    44,
    147,
    0,
)
BILIRUBIN = Test(
    "1975-2",
    "Bilirubin, total",
    "Bilirubin.total [Mass/volume] in Serum or Plasma",
    "mg/dL",
    "mg/dL",
    0.1,
    1.2,
    1,
)
ALBUMIN = Test(
    "1751-7", "Albumin", "Albumin [Mass/volume] in Serum or Plasma", "g/dL", "g/dL", 3.5, 5.0, 1
)
TOTAL_PROTEIN = Test(
    "2885-2",
    "Total protein",
    "Protein [Mass/volume] in Serum or Plasma",
    "g/dL",
    "g/dL",
    6.0,
    8.3,
    1,
)
# The yearly physical orders the comprehensive panel: the basic one plus liver tests.
CMP = Panel(
    "cmp",
    "24323-8",
    "Comprehensive metabolic 2000 panel - Serum or Plasma",
    (*BMP.tests, ALBUMIN, TOTAL_PROTEIN, BILIRUBIN, ALKALINE_PHOSPHATASE, ALT, AST),
)
CBC = Panel("cbc", "58410-2", "CBC panel - Blood by Automated count", (HEMOGLOBIN, WBC, PLATELETS))
LIPIDS = Panel(
    "lipids",
    "57698-3",
    "Lipid panel with direct LDL - Serum or Plasma",
    (CHOLESTEROL, LDL, HDL, TRIGLYCERIDES),
)
A1C = Panel("a1c", HBA1C.loinc, HBA1C.display, (HBA1C,))
THYROID = Panel("tsh", TSH.loinc, TSH.display, (TSH,))

# --- visits ------------------------------------------------------------------------------------

CHECKUP = ("185349003", "Encounter for check up (procedure)")
FOLLOW_UP = ("390906007", "Follow-up encounter (procedure)")
SICK_VISIT = ("185345009", "Encounter for symptom (procedure)")
WELL_CHILD = ("410620009", "Well child visit (procedure)")
BODY_HEIGHT = Test("8302-2", "Height", "Body height", "cm", "cm", None, None, 1)
TEMPERATURE = Test("8310-5", "Temperature", "Body temperature", "°C", "Cel", 36.1, 37.8, 1)
RESPIRATORY_RATE = Test("9279-1", "Respiratory rate", "Respiratory rate", "/min", "/min", 12, 20, 0)
OXYGEN_SATURATION = Test(
    "59408-5",
    "Oxygen saturation",
    "Oxygen saturation in Arterial blood by Pulse oximetry",
    "%",
    "%",
    95,
    100,
    0,
)
