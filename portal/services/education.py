"""Patient education: MedlinePlus Connect links built from a record entry's code, and a short
plain-language description of common lab tests.

MedlinePlus Connect (an HL7 Infobutton service of the US National Library of Medicine) takes one
code and the OID of its code system, and answers with the matching MedlinePlus pages. The link
carries only a code, never the patient's name or values.
"""

from urllib.parse import urlencode

MEDLINEPLUS_CONNECT = "https://connect.medlineplus.gov/application"

# Code system OIDs that MedlinePlus Connect accepts.
ICD10_CM_OID = "2.16.840.1.113883.6.90"
ICD9_CM_OID = "2.16.840.1.113883.6.103"
SNOMED_OID = "2.16.840.1.113883.6.96"
RXNORM_OID = "2.16.840.1.113883.6.88"
NDC_OID = "2.16.840.1.113883.6.69"
LOINC_OID = "2.16.840.1.113883.6.1"

# FHIR code system URLs (and the spellings EHRs use for ICD-10) to those OIDs.
SYSTEM_OIDS = {
    "http://hl7.org/fhir/sid/icd-10-cm": ICD10_CM_OID,
    "http://hl7.org/fhir/sid/icd-10": ICD10_CM_OID,
    "http://hl7.org/fhir/sid/icd-9-cm": ICD9_CM_OID,
    "http://snomed.info/sct": SNOMED_OID,
    "http://www.nlm.nih.gov/research/umls/rxnorm": RXNORM_OID,
    "http://hl7.org/fhir/sid/ndc": NDC_OID,
    "http://loinc.org": LOINC_OID,
}

LOINC = "http://loinc.org"


def medlineplus_url(system: str | None, code: str | None, display: str = "") -> str | None:
    """The MedlinePlus Connect page for a coded entry, or None for a code system it does not know
    (or no code at all): never a guess from the words alone."""
    oid = SYSTEM_OIDS.get((system or "").strip().lower().rstrip("/"))
    if oid is None or not code or not code.strip():
        return None
    params = {
        "mainSearchCriteria.v.cs": oid,
        "mainSearchCriteria.v.c": code.strip(),
    }
    if display.strip():
        params["mainSearchCriteria.v.dn"] = display.strip()
    params["informationRecipient.languageCode.c"] = "en"
    return f"{MEDLINEPLUS_CONNECT}?{urlencode(params)}"


def lab_test_url(loinc_code: str | None, display: str = "") -> str | None:
    """Lab results keep LOINC codes; their MedlinePlus Connect page."""
    return medlineplus_url(LOINC, loinc_code, display)


# What a common test measures, in words a patient reads (LOINC code -> description).
LAB_DESCRIPTIONS: dict[str, str] = {
    "4548-4": "Your average blood sugar over the last 2 to 3 months. Used to find and follow "
    "diabetes.",
    "17856-6": "Your average blood sugar over the last 2 to 3 months. Used to find and follow "
    "diabetes.",
    "2345-7": "The amount of sugar (glucose) in your blood when it was drawn.",
    "2339-0": "The amount of sugar (glucose) in your blood when it was drawn.",
    "2093-3": "All the cholesterol in your blood. Together with LDL and HDL it helps judge heart "
    "risk.",
    "18262-6": 'LDL, the "bad" cholesterol that can build up in arteries. Lower is better.',
    "13457-7": 'LDL, the "bad" cholesterol that can build up in arteries. Lower is better.',
    "2089-1": 'LDL, the "bad" cholesterol that can build up in arteries. Lower is better.',
    "2085-9": 'HDL, the "good" cholesterol that carries cholesterol away from arteries. Higher '
    "is better.",
    "2571-8": "Triglycerides, a kind of fat in the blood. High levels add to heart risk.",
    "2951-2": "Sodium, a salt that keeps the body's water in balance.",
    "2823-3": "Potassium, a mineral the heart and muscles need to work properly.",
    "2160-0": "Creatinine, a waste product the kidneys clear. A high level can mean the kidneys "
    "are not filtering well.",
    "3094-0": "Urea nitrogen (BUN), a waste product the kidneys clear; it helps check kidney "
    "function.",
    "17861-6": "Calcium, a mineral needed for bones, nerves and muscles.",
    "62238-1": "eGFR estimates how well your kidneys filter blood. Lower numbers mean less kidney "
    "function.",
    "33914-3": "eGFR estimates how well your kidneys filter blood. Lower numbers mean less kidney "
    "function.",
    "718-7": "Hemoglobin carries oxygen in red blood cells. A low level is called anemia.",
    "6690-2": "White blood cells fight infection. High or low counts can point to infection or "
    "other problems.",
    "777-3": "Platelets help your blood clot.",
    "3016-3": "TSH, a hormone that controls the thyroid. High can mean an underactive thyroid; low "
    "an overactive one.",
    "1742-6": "ALT, a liver enzyme. A high level can be a sign of liver irritation.",
    "1920-8": "AST, an enzyme from the liver and muscles. A high level can be a sign of liver "
    "irritation.",
    "14959-1": "Albumin in urine compared with creatinine. It finds early kidney damage, "
    "especially with diabetes.",
    "2857-1": "PSA, a protein made by the prostate. Used to look for prostate problems.",
    "1989-3": "Vitamin D, needed for strong bones.",
}


def lab_description(loinc_code: str | None) -> str:
    """A plain-language description of the test, or "" when there is none."""
    return LAB_DESCRIPTIONS.get((loinc_code or "").strip(), "")
