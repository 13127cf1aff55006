"""How a demo patient's numbers move over time, so trend charts tell a believable story.

Each patient gets a few fixed traits (baseline A1c, height, how well a drug works); a treatment
pulls a value from its baseline toward a goal with a half-life, and every measurement adds a
little noise. A diabetic's A1c falls after metformin starts, blood pressure after lisinopril,
LDL after a statin, TSH after levothyroxine; kidney function slowly declines in CKD.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime

from portal.demo import codes
from portal.demo.people import Person
from portal.demo.timeline import ProblemCourse


def treated_fraction(start: datetime | None, when: datetime, half_life_days: float) -> float:
    """0 before a treatment starts, rising toward 1 as it takes effect."""
    if start is None or when < start:
        return 0.0
    days = (when - start).total_seconds() / 86400
    return 1 - math.pow(0.5, days / half_life_days)


def egfr_ckd_epi_2021(creatinine: float, age: float, sex: str) -> float:
    """The race-free CKD-EPI 2021 creatinine equation (mL/min/1.73m2)."""
    female = sex == "female"
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine / kappa
    value = 142 * math.pow(min(ratio, 1), alpha) * math.pow(max(ratio, 1), -1.200)
    value *= math.pow(0.9938, age)
    return value * 1.012 if female else value


@dataclass
class Goal:
    """A value that starts at ``baseline`` and, once treatment starts, approaches ``target``."""

    baseline: float
    target: float
    start: datetime | None
    half_life_days: float
    drift_per_year: float = 0.0

    def at(self, when: datetime, origin: datetime) -> float:
        years = (when - origin).days / 365.25
        pulled = self.target - self.baseline
        return (
            self.baseline
            + pulled * treated_fraction(self.start, when, self.half_life_days)
            + self.drift_per_year * years
        )


class Physiology:
    """One patient's values at any moment, from traits drawn once with the patient's RNG."""

    def __init__(
        self,
        rng: random.Random,
        person: Person,
        courses: list[ProblemCourse],
        *,
        origin: datetime,
        a1c_story: tuple[float, float] | None = None,
    ):
        self.rng = rng
        self.person = person
        self.origin = origin
        by_key = {c.problem.key: c for c in courses}
        self.has = set(by_key)
        female = person.sex == "female"
        self.height_m = rng.uniform(1.52, 1.74) if female else rng.uniform(1.63, 1.90)
        self.build = rng.uniform(0.88, 1.2)  # children: lighter or heavier than the median
        self.a1c = self._a1c_goal(by_key.get("diabetes"), a1c_story)
        self.systolic, self.diastolic = self._bp_goals(by_key.get("hypertension"))
        self.ldl = self._ldl_goal(by_key.get("hyperlipidemia"))
        self.tsh = self._tsh_goal(by_key.get("hypothyroidism"))
        metformin = by_key["diabetes"].start_of(codes.METFORMIN) if "diabetes" in by_key else None
        bmi = rng.uniform(28, 37) if "diabetes" in by_key else rng.uniform(20, 33)
        weight = bmi * self.height_m**2
        # Metformin and the advice that comes with it take a few kilos off over a year.
        drift = rng.uniform(-1.0, 0.3) if metformin else rng.uniform(-1.2, 1.2)
        self.weight = Goal(weight, weight - rng.uniform(2, 6), metformin, 150, drift)
        self.creatinine = Goal(
            rng.uniform(1.35, 1.75) if "ckd" in self.has else rng.uniform(0.7, 1.05),
            0,
            None,
            1,
            rng.uniform(0.04, 0.09) if "ckd" in self.has else 0.004,
        )
        if not female:
            self.creatinine.baseline += 0.15
        self.hdl = rng.uniform(45, 70) if female else rng.uniform(36, 55)
        self.triglycerides = rng.uniform(80, 170)
        self.heart_rate = rng.uniform(62, 82)
        self.platelets = rng.uniform(180, 330)
        self.hemoglobin = (13.3 if female else 14.8) - (1.9 if "ckd" in self.has else 0)

    # --- traits --------------------------------------------------------------------------

    def _a1c_goal(self, course: ProblemCourse | None, story: tuple[float, float] | None) -> Goal:
        rng = self.rng
        if course is None:
            return Goal(rng.uniform(4.9, 5.9), 0, None, 1, rng.uniform(-0.02, 0.08))
        metformin = course.start_of(codes.METFORMIN)
        if course.new_in_window:
            baseline, target = story or (rng.uniform(8.3, 9.8), rng.uniform(6.7, 7.4))
            return Goal(baseline, target, metformin, 70)
        # Long-standing diabetes: roughly controlled, some slowly slipping.
        return Goal(rng.uniform(6.8, 7.7), 0, None, 1, rng.uniform(-0.15, 0.45))

    def _bp_goals(self, course: ProblemCourse | None) -> tuple[Goal, Goal]:
        rng = self.rng
        if course is None:
            age_lift = max(0, self.person.age_on(self.origin.date()) - 40) * 0.25
            return (
                Goal(rng.uniform(106, 124) + age_lift, 0, None, 1, rng.uniform(-0.5, 1)),
                Goal(rng.uniform(66, 79), 0, None, 1),
            )
        start = course.drugs[0].start
        if course.new_in_window:
            sys_drop, dia_drop = rng.uniform(16, 28), rng.uniform(8, 14)
            base_sys, base_dia = rng.uniform(148, 164), rng.uniform(92, 101)
        else:
            sys_drop, dia_drop = rng.uniform(4, 14), rng.uniform(3, 8)
            base_sys, base_dia = rng.uniform(138, 150), rng.uniform(84, 94)
        return (
            Goal(base_sys, base_sys - sys_drop, start, 40),
            Goal(base_dia, base_dia - dia_drop, start, 40),
        )

    def _ldl_goal(self, course: ProblemCourse | None) -> Goal:
        rng = self.rng
        if course is None:
            return Goal(rng.uniform(80, 132), 0, None, 1, rng.uniform(-2, 3))
        base = rng.uniform(160, 195)
        return Goal(base, base * rng.uniform(0.5, 0.62), course.start_of(codes.ATORVASTATIN), 30)

    def _tsh_goal(self, course: ProblemCourse | None) -> Goal:
        rng = self.rng
        if course is None:
            return Goal(rng.uniform(0.9, 3.2), 0, None, 1)
        return Goal(
            rng.uniform(7, 13), rng.uniform(0.9, 3.4), course.start_of(codes.LEVOTHYROXINE), 35
        )

    # --- values at a moment --------------------------------------------------------------

    def _noisy(self, value: float, sd: float) -> float:
        return value + self.rng.gauss(0, sd)

    def age(self, when: datetime) -> float:
        return (when.date() - self.person.birth_date).days / 365.25

    def lab(self, test: codes.Test, when: datetime, *, acute: bool = False) -> float:
        """A lab result for ``test`` drawn at ``when`` (an acute illness lifts the WBC)."""
        value = self._lab_value(test, when, acute)
        return round(value, test.decimals) if test.decimals else float(round(value))

    def _lab_value(self, test: codes.Test, when: datetime, acute: bool) -> float:
        o = self.origin
        a1c = max(4.2, self.a1c.at(when, o))
        creatinine = max(0.4, self.creatinine.at(when, o))
        match test.loinc:
            case codes.HBA1C.loinc:
                return self._noisy(a1c, 0.12)
            case codes.GLUCOSE.loinc:
                # Fasting glucose follows A1c (estimated average glucose ~ 28.7*A1c - 46.7).
                fasting = 28.7 * a1c - 46.7 - (12 if "diabetes" in self.has else 23)
                return self._noisy(fasting, 9)
            case codes.CREATININE.loinc:
                return self._noisy(creatinine, 0.05)
            case codes.EGFR.loinc:
                return min(130, egfr_ckd_epi_2021(creatinine, self.age(when), self.person.sex))
            case codes.BUN.loinc:
                return self._noisy(6 + 9 * creatinine, 2)
            case codes.SODIUM.loinc:
                return self._noisy(140, 1.6)
            case codes.POTASSIUM.loinc:
                lift = 0.3 if "ckd" in self.has else 0
                return self._noisy(4.2 + lift, 0.25)
            case codes.CALCIUM.loinc:
                return self._noisy(9.4, 0.3)
            case codes.HEMOGLOBIN.loinc:
                return self._noisy(self.hemoglobin, 0.45)
            case codes.WBC.loinc:
                return self._noisy(9.8 if acute else 6.6, 1.2)
            case codes.PLATELETS.loinc:
                return self._noisy(self.platelets, 20)
            case codes.LDL.loinc:
                return max(40, self._noisy(self.ldl.at(when, o), 8))
            case codes.HDL.loinc:
                return self._noisy(self.hdl, 3)
            case codes.TRIGLYCERIDES.loinc:
                return max(45, self._noisy(self.triglycerides + 25 * max(0, a1c - 6), 18))
            case codes.CHOLESTEROL.loinc:
                # Friedewald: total = LDL + HDL + TG/5 (on the trait values, plus noise).
                total = self.ldl.at(when, o) + self.hdl + self.triglycerides / 5
                return self._noisy(total, 6)
            case codes.ALT.loinc:
                # Statins nudge liver enzymes up a little.
                return max(8, self._noisy(24 + (8 if "hyperlipidemia" in self.has else 0), 6))
            case codes.AST.loinc:
                return max(9, self._noisy(22, 5))
            case codes.ALKALINE_PHOSPHATASE.loinc:
                return self._noisy(75, 15)
            case codes.BILIRUBIN.loinc:
                return max(0.2, self._noisy(0.6, 0.2))
            case codes.ALBUMIN.loinc:
                return self._noisy(4.2, 0.25)
            case codes.TOTAL_PROTEIN.loinc:
                return self._noisy(7.1, 0.35)
            case codes.TSH.loinc:
                return max(0.05, self._noisy(self.tsh.at(when, o), 0.25))
        raise ValueError(f"no model for {test.loinc}")

    def blood_pressure(self, when: datetime) -> tuple[float, float]:
        if self.age(when) < 13:
            return float(round(self._noisy(102, 6))), float(round(self._noisy(62, 5)))
        systolic = self._noisy(self.systolic.at(when, self.origin), 6)
        diastolic = self._noisy(self.diastolic.at(when, self.origin), 4)
        return float(round(systolic)), float(round(diastolic))

    def height_cm(self, when: datetime) -> float:
        age = self.age(when)
        if age >= 18:
            return self.height_m * 100
        # Rough median growth: ~6 cm a year in childhood, then toward adult height.
        child = 77 + 6 * min(age, 12)
        if age > 12:
            child += (age - 12) * (self.height_m * 100 - child) / 6
        return child

    def weight_kg(self, when: datetime) -> float:
        age = self.age(when)
        if age < 18:
            median = 8 + 2 * age if age <= 12 else 32 + (age - 12) * 5.5
            return round(self._noisy(median * self.build, 0.3), 1)
        return round(self._noisy(self.weight.at(when, self.origin), 0.5), 1)

    def heart_rate_bpm(self, when: datetime) -> float:
        base = 100 - 2.5 * self.age(when) if self.age(when) < 12 else self.heart_rate
        return float(round(self._noisy(base, 4)))

    def temperature_c(self, *, acute: bool) -> float:
        return round(self._noisy(37.9 if acute else 36.7, 0.25), 1)

    def respiratory_rate(self, when: datetime) -> float:
        base = 22 if self.age(when) < 12 else 15
        return float(round(self._noisy(base, 1.5)))

    def oxygen_saturation(self) -> float:
        return float(min(100, round(self._noisy(97.5, 1.0))))


def bmi(weight_kg: float, height_cm: float) -> float:
    return round(weight_kg / (height_cm / 100) ** 2, 1)
