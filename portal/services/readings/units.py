"""The measures a patient can record, their canonical units, and unit conversion.

Every reading is stored in its measure's canonical unit (the one the clinic's EHR uses), with what
the patient entered kept beside it. Unit spellings from devices and FHIR (UCUM) are normalised
here, so the parsers only need to hand over the text they found.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from portal.errors import InvalidInput

BLOOD_PRESSURE = "blood_pressure"
WEIGHT = "weight"
GLUCOSE = "glucose"
HEART_RATE = "heart_rate"
STEPS = "steps"
SPO2 = "spo2"

# 1 mmol/L of glucose is 18.016 mg/dL (molar mass 180.16 g/mol).
GLUCOSE_MG_PER_MMOL = 18.0156
KG_PER_LB = 0.45359237
MMHG_PER_KPA = 7.50062


@dataclass(frozen=True)
class Measure:
    code: str
    label: str
    unit: str  # canonical
    # unit spelling (lower-case) -> function from that unit to the canonical one
    units: dict[str, Callable[[float], float]]
    # plausible range in the canonical unit: outside it the value is a typo or a device fault
    plausible: tuple[float, float]
    # a second value (diastolic) with its own plausible range
    plausible2: tuple[float, float] | None = None
    decimals: int = 1
    # units offered on the entry form, canonical first
    entry_units: tuple[str, ...] = field(default=())

    @property
    def pair(self) -> bool:
        return self.plausible2 is not None


def _same(value: float) -> float:
    return value


MEASURES: dict[str, Measure] = {
    m.code: m
    for m in (
        Measure(
            BLOOD_PRESSURE,
            "Blood pressure",
            "mmHg",
            {"mmhg": _same, "mm[hg]": _same, "mm hg": _same, "kpa": lambda v: v * MMHG_PER_KPA},
            plausible=(50, 300),
            plausible2=(20, 200),
            decimals=0,
            entry_units=("mmHg",),
        ),
        Measure(
            WEIGHT,
            "Weight",
            "kg",
            {
                "kg": _same,
                "kilogram": _same,
                "kilograms": _same,
                "lb": lambda v: v * KG_PER_LB,
                "lbs": lambda v: v * KG_PER_LB,
                "[lb_av]": lambda v: v * KG_PER_LB,
                "pound": lambda v: v * KG_PER_LB,
                "pounds": lambda v: v * KG_PER_LB,
                "g": lambda v: v / 1000,
            },
            plausible=(1, 400),
            entry_units=("kg", "lb"),
        ),
        Measure(
            GLUCOSE,
            "Blood glucose",
            "mg/dL",
            {
                "mg/dl": _same,
                "mmol/l": lambda v: v * GLUCOSE_MG_PER_MMOL,
                # Apple Health writes the molar mass into the unit.
                "mmol<180.1558800000541>/l": lambda v: v * GLUCOSE_MG_PER_MMOL,
            },
            plausible=(10, 1000),
            decimals=0,
            entry_units=("mg/dL", "mmol/L"),
        ),
        Measure(
            HEART_RATE,
            "Heart rate",
            "/min",
            {
                "/min": _same,
                "bpm": _same,
                "count/min": _same,
                "beats/min": _same,
                "{beats}/min": _same,
                "1/min": _same,
            },
            plausible=(20, 250),
            decimals=0,
            entry_units=("bpm",),
        ),
        Measure(
            STEPS,
            "Steps",
            "steps",
            {"steps": _same, "count": _same, "{steps}": _same, "{count}": _same, "1": _same},
            plausible=(0, 100_000),
            decimals=0,
            entry_units=("steps",),
        ),
        Measure(
            SPO2,
            "Oxygen saturation",
            "%",
            {"%": _same, "percent": _same},
            plausible=(50, 100),
            decimals=0,
            entry_units=("%",),
        ),
    )
}


def measure(code: str) -> Measure:
    try:
        return MEASURES[code]
    except KeyError:
        raise InvalidInput("Please choose what you measured from the list.") from None


def to_canonical(code: str, value: float, unit: str) -> float:
    """``value`` in ``unit`` converted to the measure's canonical unit; refuses unknown units."""
    m = measure(code)
    convert = m.units.get((unit or m.unit).strip().lower())
    if convert is None:
        allowed = ", ".join(m.entry_units)
        raise InvalidInput(f"{m.label} cannot be given in '{unit}'. Use {allowed}.")
    return convert(value)


def from_canonical(code: str, value: float, unit: str) -> float | None:
    """A canonical value expressed in ``unit`` (for charts beside clinic values), or None."""
    m = measure(code)
    convert = m.units.get((unit or "").strip().lower())
    if convert is None:
        return None
    per_unit = convert(1.0)
    return value / per_unit if per_unit else None


def check_plausible(code: str, value: float, value2: float | None = None) -> None:
    """Refuse a value no person or device could have: a typo or the wrong unit."""
    m = measure(code)
    low, high = m.plausible
    if value != value or not low <= value <= high:  # value != value: NaN
        raise InvalidInput(
            f"{m.label} of {format_value(code, value)} {m.unit} is outside what we can accept "
            f"({low:g}–{high:g} {m.unit}). Please check the number and the unit."
        )
    if m.plausible2 is not None:  # m.pair, said so that mypy sees the range
        if value2 is None:
            raise InvalidInput("Please enter both numbers of the blood pressure.")
        low2, high2 = m.plausible2
        if value2 != value2 or not low2 <= value2 <= high2:
            raise InvalidInput(
                f"A diastolic pressure of {value2:g} {m.unit} is outside what we can accept "
                f"({low2:g}–{high2:g}). Please check the numbers."
            )
        if value2 >= value:
            raise InvalidInput(
                "The first (systolic) number must be higher than the second (diastolic)."
            )


def format_value(code: str, value: float, value2: float | None = None) -> str:
    m = MEASURES.get(code)
    decimals = m.decimals if m else 1
    text = f"{value:.{decimals}f}"
    if value2 is not None:
        text += f"/{value2:.{decimals}f}"
    return text


def display(code: str, value: float, value2: float | None = None) -> str:
    """'120/80 mmHg', '72.5 kg': a canonical value as people read it."""
    m = MEASURES.get(code)
    unit = m.unit if m else ""
    if code == HEART_RATE:
        unit = "bpm"
    return f"{format_value(code, value, value2)} {unit}".strip()
