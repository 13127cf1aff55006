"""Units of lab results: one spelling per UCUM unit, and conversions where a factor is known.

EHRs spell one unit several ways ("mL/min/{1.73_m2}", "mL/min/1.73m2"; "[pH]", "pH"), and labs
change units (glucose in mg/dL, later mmol/L). A trend needs one unit on its axis: results are
converted into it when the factor is known, and left off the chart, visibly, when it is not.

Mass <-> substance conversions (mg/dL <-> mmol/L) need the analyte's molar mass, so they are listed
per analyte (portal/lab_names.ANALYTES keys); everything else is a plain factor per dimension.
"""

from collections.abc import Callable

# unit key -> factor into the dimension's base unit, per dimension.
_LINEAR: dict[str, dict[str, float]] = {
    "mass_concentration": {  # base mg/dL
        "mg/dl": 1.0,
        "g/dl": 1000.0,
        "g/l": 100.0,
        "mg/l": 0.1,
        "ug/dl": 0.001,
        "ug/ml": 0.1,
        "ng/ml": 0.0001,
    },
    "substance_concentration": {  # base mmol/L
        "mmol/l": 1.0,
        "umol/l": 0.001,
        "nmol/l": 0.000001,
        "mol/l": 1000.0,
    },
    "mass": {"kg": 1.0, "g": 0.001, "lb": 0.45359237, "oz": 0.028349523125},
    "length": {"cm": 1.0, "m": 100.0, "mm": 0.1, "in": 2.54, "ft": 30.48},
    "cell_count": {"10*3/ul": 1.0, "10*9/l": 1.0, "/ul": 0.001, "10*6/ul": 1000.0},
    "rate": {"/min": 1.0},
    "fraction": {"%": 1.0},
}

# Spellings seen from EHRs and devices -> the key used above.
_ALIASES = {
    "mg/100ml": "mg/dl",
    "k/ul": "10*3/ul",
    "10^3/ul": "10*3/ul",
    "x10e3/ul": "10*3/ul",
    "thou/ul": "10*3/ul",
    "10*3/mm3": "10*3/ul",
    "/mm3": "/ul",
    "cells/ul": "/ul",
    "m/ul": "10*6/ul",
    "10^6/ul": "10*6/ul",
    "x10e6/ul": "10*6/ul",
    "10^9/l": "10*9/l",
    "[lb_av]": "lb",
    "lbs": "lb",
    "[oz_av]": "oz",
    "[in_i]": "in",
    "[ft_i]": "ft",
    "beats/min": "/min",
    "bpm": "/min",
    "{beats}/min": "/min",
    "breaths/min": "/min",
    "{breaths}/min": "/min",
    "°c": "cel",
    "degc": "cel",
    "[degf]": "degf",
    "°f": "degf",
    "[ph]": "ph",
    "meq/l": "meq/l",
    "mm[hg]": "mmhg",
    "ml/min/{1.73_m2}": "ml/min/1.73m2",
    "ml/min/1.73.m2": "ml/min/1.73m2",
    "ml/min/1.73m^2": "ml/min/1.73m2",
    "ml/min/1.73_m2": "ml/min/1.73m2",
    "ml/min/{1.73m2}": "ml/min/1.73m2",
}

# g/mol: mg/dL -> mmol/L is value * 10 / molar mass. Cholesterol fractions are measured as
# cholesterol; urea nitrogen as its two nitrogen atoms (28.014), as labs convert it.
MOLAR_MASS = {
    "glucose": 180.156,
    "cholesterol": 386.65,
    "ldl": 386.65,
    "hdl": 386.65,
    "triglycerides": 885.7,
    "creatinine": 113.12,
    "urea_nitrogen": 28.014,
    "calcium": 40.078,
    "bilirubin": 584.66,
}
# mEq/L equals mmol/L only for ions of charge 1.
MONOVALENT = {"sodium", "potassium", "chloride", "bicarbonate"}


def unit_key(unit: str | None) -> str:
    """One spelling per unit: case, spaces and UCUM's brackets/annotations do not matter."""
    key = "".join((unit or "").split()).lower().replace("µ", "u").replace("μ", "u")
    return _ALIASES.get(key, key)


def same_unit(a: str | None, b: str | None) -> bool:
    return unit_key(a) == unit_key(b)


def _dimension(key: str) -> tuple[str, float] | None:
    for dimension, factors in _LINEAR.items():
        if key in factors:
            return dimension, factors[key]
    return None


def _affine(analyte: str | None, source: str, target: str) -> Callable[[float], float] | None:
    """Conversions that are not one factor: temperatures and the two HbA1c scales."""
    pairs: dict[tuple[str, str], Callable[[float], float]] = {
        ("cel", "degf"): lambda v: v * 9 / 5 + 32,
        ("degf", "cel"): lambda v: (v - 32) * 5 / 9,
    }
    if analyte == "a1c":  # IFCC mmol/mol <-> NGSP %, the published master equation
        pairs[("%", "mmol/mol")] = lambda v: (v - 2.15) * 10.929
        pairs[("mmol/mol", "%")] = lambda v: v / 10.929 + 2.15
    return pairs.get((source, target))


def _to_base(analyte: str | None, key: str) -> tuple[str, float] | None:
    """(dimension, factor into its base), with mEq/L as mmol/L for monovalent ions."""
    if key == "meq/l" and analyte in MONOVALENT:
        return "substance_concentration", 1.0
    if analyte == "uacr" and key in ("mg/g", "mg/mmol"):
        # Albumin per creatinine: a gram of creatinine is 1000 / 113.12 = 8.84 mmol.
        return "albumin_per_creatinine", 1.0 if key == "mg/mmol" else 113.12 / 1000
    return _dimension(key)


def converter(
    analyte: str | None, source: str | None, target: str | None
) -> Callable[[float], float] | None:
    """A function from ``source`` to ``target`` units, or None when no factor is known."""
    source_key, target_key = unit_key(source), unit_key(target)
    if source_key == target_key:
        return lambda v: v
    if affine := _affine(analyte, source_key, target_key):
        return affine
    source_base, target_base = _to_base(analyte, source_key), _to_base(analyte, target_key)
    if source_base is None or target_base is None:
        return None
    (source_dim, source_factor), (target_dim, target_factor) = source_base, target_base
    factor = source_factor / target_factor
    if source_dim == target_dim:
        return lambda v: v * factor
    molar_mass = MOLAR_MASS.get(analyte or "")
    if molar_mass is None:
        return None
    if (source_dim, target_dim) == ("mass_concentration", "substance_concentration"):
        return lambda v: v * source_factor * 10 / molar_mass / target_factor
    if (source_dim, target_dim) == ("substance_concentration", "mass_concentration"):
        return lambda v: v * source_factor * molar_mass / 10 / target_factor
    return None


def convert(
    analyte: str | None, value: float, source: str | None, target: str | None
) -> float | None:
    """``value`` in ``target`` units, or None when the portal knows no safe conversion."""
    convert_fn = converter(analyte, source, target)
    return convert_fn(value) if convert_fn else None
