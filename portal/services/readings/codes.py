"""LOINC codes of the measures, so FHIR imports and the clinic's result trends line up with
patient readings. Codes are kept with their system; nothing is keyed on display text."""

from portal.services.readings import units

LOINC = "http://loinc.org"

BP_PANEL_CODES = ("85354-9", "55284-4", "35094-2")
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"

# LOINC code -> measure, for single-value observations.
LOINC_TO_MEASURE: dict[str, str] = {
    "29463-7": units.WEIGHT,  # body weight
    "3141-9": units.WEIGHT,  # body weight measured
    "2339-0": units.GLUCOSE,  # glucose in blood (mass/volume)
    "2345-7": units.GLUCOSE,  # glucose in serum or plasma
    "41653-7": units.GLUCOSE,  # glucose in capillary blood by glucometer
    "15074-8": units.GLUCOSE,  # glucose in blood (moles/volume)
    "14743-9": units.GLUCOSE,  # glucose in capillary blood by glucometer (moles/volume)
    "8867-4": units.HEART_RATE,
    "55423-8": units.STEPS,  # number of steps in unspecified time pedometer
    "41950-7": units.STEPS,  # number of steps in 24 hours
    "59408-5": units.SPO2,  # SpO2 by pulse oximetry
    "2708-6": units.SPO2,  # oxygen saturation in arterial blood
}

BLOOD_PRESSURE_CODES = (*BP_PANEL_CODES, SYSTOLIC, DIASTOLIC)


def measure_for_clinic_code(code: str) -> str | None:
    """Which patient measure matches a clinic result code (for trends shown together)."""
    if code in BLOOD_PRESSURE_CODES:
        return units.BLOOD_PRESSURE
    return LOINC_TO_MEASURE.get(code)
