"""Prescriptions as written: a FHIR R4 Dosage in words when the EHR sent no ``text``.

Many EHRs (Synthea's records, for one) send the dose and timing only as structured elements:
``doseAndRate``, ``route``, ``timing.repeat`` (frequency, period, bounds), ``asNeeded[x]``. Without
this, a patient would see a medication with no instructions at all. The words follow the way the
R4 Dosage examples read: "1 tablet by mouth every 4 to 6 hours for 10 days, as needed for pain".
"""

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ehr_sync.fhir_values import concept_label, pick_coding

_UNITS = {  # UCUM / FHIR period units, singular and plural
    "s": ("second", "seconds"),
    "min": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "d": ("day", "days"),
    "wk": ("week", "weeks"),
    "mo": ("month", "months"),
    "a": ("year", "years"),
}
# SNOMED CT route codes a patient reads better in words.
_ROUTES = {
    "26643006": "by mouth",
    "78421000": "into a muscle",
    "47625008": "into a vein",
    "34206005": "under the skin",
    "6064005": "on the skin",
    "46713006": "in the nose",
    "447694001": "by inhalation",
    "37161004": "rectally",
    "16857009": "vaginally",
    "54485002": "in the eye",
    "37839007": "under the tongue",
    "45890007": "through the skin",
}
# v3 TimingEvent / EventTiming codes in Timing.repeat.when.
_WHEN = {
    "MORN": "in the morning",
    "AFT": "in the afternoon",
    "EVE": "in the evening",
    "NIGHT": "at night",
    "HS": "at bedtime",
    "WAKE": "on waking",
    "C": "with meals",
    "CM": "with breakfast",
    "CD": "with lunch",
    "CV": "with dinner",
    "AC": "before meals",
    "ACM": "before breakfast",
    "ACD": "before lunch",
    "ACV": "before dinner",
    "PC": "after meals",
    "PCM": "after breakfast",
    "PCD": "after lunch",
    "PCV": "after dinner",
}
_TIMES = {1: "once", 2: "twice"}
# Timing.code (v3 GTSAbbreviation), when the EHR sends a code instead of a repeat.
_TIMING_CODES = {
    "QD": "once a day",
    "BID": "twice a day",
    "TID": "3 times a day",
    "QID": "4 times a day",
    "AM": "in the morning",
    "PM": "in the afternoon or evening",
    "QOD": "every other day",
    "Q1H": "every hour",
    "Q2H": "every 2 hours",
    "Q3H": "every 3 hours",
    "Q4H": "every 4 hours",
    "Q6H": "every 6 hours",
    "Q8H": "every 8 hours",
    "BED": "at bedtime",
    "WK": "once a week",
    "MO": "once a month",
}


def dosage_instructions(dosages: Sequence[Any] | None) -> str | None:
    """Every Dosage of a prescription in words, in sequence order, joined by "; then "."""
    ordered = sorted(dosages or [], key=lambda d: d.sequence if d.sequence is not None else 0)
    words = [w for d in ordered if (w := dosage_words(d))]
    if not words:
        return None
    sequences = {d.sequence for d in ordered}
    # Several dosages with one sequence number are taken together, not one after the other.
    return ("; then " if len(sequences) == len(ordered) and len(ordered) > 1 else "; ").join(words)


def dosage_words(dosage: Any) -> str | None:
    """``Dosage.text`` if given, else the structured elements in words; None if it says nothing."""
    if dosage.text:
        given: str = dosage.text
        return given
    head = " ".join(
        p for p in (_dose(dosage.doseAndRate), _route(dosage.route), _timing(dosage.timing)) if p
    )
    tail = [p for p in (_rate(dosage.doseAndRate), _as_needed(dosage), _max_dose(dosage)) if p]
    instructions = [concept_label(c) for c in dosage.additionalInstruction or []]
    if dosage.patientInstruction:
        instructions.append(dosage.patientInstruction)
    text = ", ".join([p for p in [head, *tail] if p])
    extra = ". ".join(i for i in instructions if i)
    if text and extra:
        return f"{text}. {extra}"
    return text or extra or None


def _number(value: Decimal | int | float | None) -> str:
    if value is None:
        return ""
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


def _quantity(quantity: Any) -> str:
    if quantity is None or quantity.value is None:
        return ""
    unit = quantity.unit or quantity.code or ""
    if unit in ("", "1"):  # UCUM's unity: a count of whatever form the product comes in
        unit = "dose" if quantity.value == 1 else "doses"
    return f"{_number(quantity.value)} {unit}"


def _dose(dose_and_rate: Sequence[Any] | None) -> str:
    for item in dose_and_rate or []:
        if item.doseQuantity is not None:
            return _quantity(item.doseQuantity)
        if item.doseRange is not None:
            low, high = item.doseRange.low, item.doseRange.high
            unit = (high or low).unit or (high or low).code or "" if (high or low) else ""
            low_value = _number(low.value) if low else ""
            high_value = _number(high.value) if high else ""
            span = f"{low_value} to {high_value}" if low_value and high_value else low_value
            return f"{span or high_value} {'' if unit == '1' else unit}".strip()
    return ""


def _rate(dose_and_rate: Sequence[Any] | None) -> str:
    for item in dose_and_rate or []:
        if item.rateQuantity is not None:
            return f"at {_quantity(item.rateQuantity)}"
        if item.rateRatio is not None:
            ratio = item.rateRatio
            return f"at {_quantity(ratio.numerator)} per {_quantity(ratio.denominator)}"
        if item.rateRange is not None:
            low, high = item.rateRange.low, item.rateRange.high
            return f"at {_quantity(low)} to {_quantity(high)}"
    return ""


def _route(route: Any) -> str:
    if route is None:
        return ""
    coding = pick_coding(route)
    if coding is not None and coding.code in _ROUTES:
        return _ROUTES[coding.code]
    label = concept_label(route)
    return f"({label.lower()})" if label else ""


def _unit(code: str | None, count: Decimal | int | float | None) -> str:
    singular, plural = _UNITS.get(code or "", (code or "", code or ""))
    return singular if count is None or Decimal(str(count)) == 1 else plural


def _timing(timing: Any) -> str:
    if timing is None:
        return ""
    repeat = timing.repeat
    if repeat is None:
        return _timing_code(timing.code)
    parts = [_frequency(repeat)]
    if repeat.dayOfWeek:
        parts.append("on " + ", ".join(d.capitalize() for d in repeat.dayOfWeek))
    if repeat.timeOfDay:
        parts.append("at " + ", ".join(str(t)[:5] for t in repeat.timeOfDay))
    parts += [_WHEN.get(w, w) for w in repeat.when or []]
    parts.append(_bounds(repeat))
    if repeat.count:
        times = repeat.count if not repeat.countMax else f"{repeat.count} to {repeat.countMax}"
        parts.append(f"({times} doses in all)")
    text = " ".join(p for p in parts if p)
    return text or _timing_code(timing.code)


def _timing_code(code: Any) -> str:
    if code is None:
        return ""
    coding = pick_coding(code)
    if code.text:
        text: str = code.text
        return text
    if coding is not None and coding.code in _TIMING_CODES:
        return _TIMING_CODES[coding.code]
    return (concept_label(code) or "").lower()


def _frequency(repeat: Any) -> str:
    frequency, period = repeat.frequency, repeat.period
    if period is None:
        return f"{frequency} times" if frequency and frequency > 1 else ""
    unit = repeat.periodUnit
    frequency = frequency or 1
    if repeat.frequencyMax:
        times = f"{frequency} to {repeat.frequencyMax} times"
    else:
        times = _TIMES.get(frequency, f"{frequency} times")
    if period == 1 and not repeat.periodMax:
        return f"{times} a {_unit(unit, 1)}"
    span = _number(period) if not repeat.periodMax else f"{_number(period)} to "
    span += _number(repeat.periodMax) if repeat.periodMax else ""
    every = f"every {span} {_unit(unit, repeat.periodMax or period)}"
    return every if frequency == 1 and not repeat.frequencyMax else f"{times} {every}"


def _bounds(repeat: Any) -> str:
    if repeat.boundsDuration is not None:
        duration = repeat.boundsDuration
        unit = _unit(duration.code, duration.value) if duration.code in _UNITS else duration.unit
        return f"for {_number(duration.value)} {unit or ''}".strip()
    if repeat.boundsPeriod is not None and repeat.boundsPeriod.end is not None:
        return f"until {str(repeat.boundsPeriod.end)[:10]}"
    if repeat.duration and repeat.durationUnit:
        return f"for {_number(repeat.duration)} {_unit(repeat.durationUnit, repeat.duration)} each"
    return ""


def _as_needed(dosage: Any) -> str:
    if dosage.asNeededCodeableConcept is not None:
        reason = concept_label(dosage.asNeededCodeableConcept)
        return f"as needed for {reason.lower()}" if reason else "as needed"
    return "as needed" if dosage.asNeededBoolean else ""


def _max_dose(dosage: Any) -> str:
    ratio = dosage.maxDosePerPeriod
    if ratio is None or ratio.numerator is None or ratio.denominator is None:
        return ""
    denominator = ratio.denominator
    per = _unit(denominator.code or denominator.unit, denominator.value)
    count = _number(denominator.value)
    period = per if count in ("", "1") else f"{count} {per}"
    return f"no more than {_quantity(ratio.numerator)} per {period}"
