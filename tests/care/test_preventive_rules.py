"""Each preventive-care rule at its edges, on the pure ``evaluate`` (no database)."""

from datetime import date, timedelta

import pytest

from portal.services.preventive import (
    GRACE_DAYS,
    CareStatus,
    PatientFacts,
    add_months,
    age_in_months,
    evaluate,
)
from portal.services.preventive_rules import RULES, RULES_BY_CODE

TODAY = date(2026, 11, 24)
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"


def born_years_ago(years: int, days_after: int = 0) -> date:
    """Birth date making the patient exactly ``years`` old today (minus ``days_after`` days)."""
    return add_months(TODAY, -12 * years) + timedelta(days=days_after)


def facts(age: int, sex: str = "female", *, conditions=(), done=None, days_after=0):
    return PatientFacts(
        birth_date=born_years_ago(age, days_after),
        sex=sex,
        conditions=tuple(conditions),
        last_done=done or {},
    )


def item(code: str, f: PatientFacts, today: date = TODAY):
    return next((i for i in evaluate(f, today) if i.rule_code == code), None)


def test_every_rule_has_a_reason_and_evidence():
    assert len(RULES) == len(RULES_BY_CODE) == 9
    for rule in RULES:
        assert rule.why and rule.evidence and rule.name


def test_age_helpers_count_whole_months_and_clamp_month_ends():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert age_in_months(date(1981, 11, 24), TODAY) == 45 * 12
    assert age_in_months(date(1981, 11, 25), TODAY) == 45 * 12 - 1


# --- USPSTF ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("age", "days_after", "applies"),
    [(44, 0, False), (45, 0, True), (75, 0, True), (76, 0, False), (45, 1, False)],
)
def test_colorectal_screening_applies_from_45_through_75(age, days_after, applies):
    assert (item("colorectal", facts(age, "male", days_after=days_after)) is not None) is applies


def test_colorectal_never_done_is_due_at_45_and_overdue_later():
    assert item("colorectal", facts(45)).status == CareStatus.DUE
    assert item("colorectal", facts(50)).status == CareStatus.OVERDUE
    assert item("colorectal", facts(50)).why == "Recommended for adults 45 to 75. You are 50."


def test_colorectal_fit_lasts_one_year_and_colonoscopy_ten():
    fit = {("observation", "29771-3"): date(2026, 1, 10)}
    assert item("colorectal", facts(55, done=fit)).status == CareStatus.UP_TO_DATE
    assert item("colorectal", facts(55, done=fit)).next_due == date(2027, 1, 10)
    old_fit = {("observation", "29771-3"): date(2025, 11, 23)}
    assert item("colorectal", facts(55, done=old_fit)).status == CareStatus.DUE
    scope = {("encounter", "73761001"): date(2017, 6, 1)}
    assert item("colorectal", facts(60, done=scope)).status == CareStatus.UP_TO_DATE
    assert item("colorectal", facts(60, done=scope)).next_due == date(2027, 6, 1)


@pytest.mark.parametrize(("age", "applies"), [(39, False), (40, True), (74, True), (75, False)])
def test_mammography_applies_to_women_40_through_74(age, applies):
    assert (item("mammography", facts(age)) is not None) is applies


def test_mammography_does_not_apply_to_men_and_lasts_two_years():
    assert item("mammography", facts(50, "male")) is None
    done = {("report", "24606-6"): date(2024, 11, 25)}
    assert item("mammography", facts(50, done=done)).status == CareStatus.UP_TO_DATE
    done = {("report", "24606-6"): date(2024, 11, 24)}
    assert item("mammography", facts(50, done=done)).status == CareStatus.DUE
    assert item("mammography", facts(50, done=done)).last_done == date(2024, 11, 24)


@pytest.mark.parametrize(("age", "applies"), [(20, False), (21, True), (65, True), (66, False)])
def test_cervical_screening_applies_to_women_21_through_65(age, applies):
    assert (item("cervical", facts(age)) is not None) is applies
    assert item("cervical", facts(age, "male")) is None


def test_cervical_pap_lasts_three_years_and_hpv_five():
    pap = {("observation", "10524-7"): date(2023, 12, 1)}
    assert item("cervical", facts(35, done=pap)).status == CareStatus.UP_TO_DATE
    pap = {("observation", "10524-7"): date(2023, 11, 1)}
    assert item("cervical", facts(35, done=pap)).status == CareStatus.DUE
    hpv = {("observation", "21440-3"): date(2022, 1, 1)}
    assert item("cervical", facts(35, done=hpv)).next_due == date(2027, 1, 1)


@pytest.mark.parametrize(("age", "applies"), [(39, False), (40, True), (75, True), (76, False)])
def test_lipid_screening_applies_40_through_75_every_5_years(age, applies):
    assert (item("lipids", facts(age, "male")) is not None) is applies


def test_lipid_screening_counts_any_cholesterol_result():
    done = {("observation", "2093-3"): date(2022, 1, 1)}
    assert item("lipids", facts(50, done=done)).status == CareStatus.UP_TO_DATE
    done = {("observation", "2093-3"): date(2021, 6, 1)}
    assert item("lipids", facts(50, done=done)).status == CareStatus.OVERDUE


# --- diabetes -------------------------------------------------------------------------------

DIABETES_SNOMED = (SNOMED, "44054006", date(2020, 1, 1))
DIABETES_ICD = (ICD10, "E11.9", None)


def test_diabetes_items_only_for_patients_with_diabetes():
    assert item("a1c", facts(50)) is None
    assert item("diabetic_eye", facts(50)) is None
    assert item("a1c", facts(50, conditions=[(SNOMED, "38341003", None)])) is None  # hypertension
    assert item("a1c", facts(50, conditions=[DIABETES_SNOMED])) is not None
    assert item("diabetic_eye", facts(50, conditions=[DIABETES_ICD])) is not None


def test_a1c_every_six_months():
    done = {("observation", "4548-4"): date(2026, 5, 25)}
    a1c = item("a1c", facts(50, conditions=[DIABETES_SNOMED], done=done))
    assert (a1c.status, a1c.next_due) == (CareStatus.UP_TO_DATE, date(2026, 11, 25))
    done = {("observation", "4548-4"): date(2026, 5, 24)}
    assert item("a1c", facts(50, conditions=[DIABETES_SNOMED], done=done)).status == "due"


def test_a1c_never_done_with_undated_diagnosis_is_due_not_overdue():
    assert item("a1c", facts(50, conditions=[DIABETES_ICD])).status == CareStatus.DUE
    assert item("a1c", facts(50, conditions=[DIABETES_SNOMED])).status == CareStatus.OVERDUE


def test_diabetic_eye_exam_yearly():
    done = {("encounter", "36228007"): date(2025, 11, 25)}
    eye = item("diabetic_eye", facts(50, conditions=[DIABETES_SNOMED], done=done))
    assert eye.status == CareStatus.UP_TO_DATE
    done = {("encounter", "36228007"): date(2025, 11, 24)}
    eye = item("diabetic_eye", facts(50, conditions=[DIABETES_SNOMED], done=done))
    assert eye.status == CareStatus.DUE


# --- CDC immunizations ----------------------------------------------------------------------


def test_flu_vaccine_by_season_starting_august_first():
    this_season = {("immunization", "150"): date(2026, 8, 1)}
    flu = item("influenza", facts(30, done=this_season))
    assert (flu.status, flu.next_due) == (CareStatus.UP_TO_DATE, date(2027, 8, 1))
    last_season = {("immunization", "150"): date(2026, 7, 31)}
    assert item("influenza", facts(30, done=last_season)).status == CareStatus.OVERDUE
    # In September the new season's shot is due, not yet overdue.
    assert item("influenza", facts(30, done=last_season), date(2026, 9, 1)).status == "due"


def test_flu_vaccine_starts_at_six_months():
    baby = PatientFacts(birth_date=add_months(TODAY, -6), sex="male")
    younger = PatientFacts(birth_date=add_months(TODAY, -6).replace(day=25), sex="male")
    assert item("influenza", baby) is not None
    assert item("influenza", younger) is None


@pytest.mark.parametrize(("age", "applies"), [(18, False), (19, True), (90, True)])
def test_td_tdap_for_adults(age, applies):
    assert (item("td_tdap", facts(age)) is not None) is applies


def test_td_tdap_every_ten_years_and_cvx_without_leading_zero_is_the_same():
    done = {("immunization", "09"): date(2016, 11, 25)}
    assert item("td_tdap", facts(40, done=done)).status == CareStatus.UP_TO_DATE
    done = {("immunization", "115"): date(2016, 11, 24)}
    assert item("td_tdap", facts(40, done=done)).status == CareStatus.DUE
    done = {("immunization", "115"): date(2016, 1, 1)}
    assert item("td_tdap", facts(40, done=done)).status == CareStatus.OVERDUE


@pytest.mark.parametrize(("age", "applies"), [(64, False), (65, True)])
def test_pneumococcal_from_65(age, applies):
    assert (item("pneumococcal", facts(age)) is not None) is applies


def test_pneumococcal_once_is_enough():
    done = {("immunization", "216"): date(2010, 1, 1)}
    pneumo = item("pneumococcal", facts(70, done=done))
    assert (pneumo.status, pneumo.next_due) == (CareStatus.UP_TO_DATE, None)
    assert item("pneumococcal", facts(70)).status == CareStatus.OVERDUE


def test_unknown_birth_date_skips_age_rules_and_list_is_sorted_by_urgency():
    assert item("colorectal", PatientFacts(birth_date=None, sex="female")) is None
    items = evaluate(facts(66, done={("immunization", "150"): date(2026, 9, 1)}), TODAY)
    statuses = [i.status for i in items]
    assert statuses == sorted(statuses, key=list(CareStatus).index)
    assert statuses[-1] == CareStatus.UP_TO_DATE


def test_due_becomes_overdue_after_the_grace_period():
    done = {("immunization", "115"): date(2016, 11, 24)}
    later = date(2026, 11, 24).toordinal() + GRACE_DAYS
    assert item("td_tdap", facts(40, done=done), date.fromordinal(later - 1)).status == "due"
    assert item("td_tdap", facts(40, done=done), date.fromordinal(later)).status == "overdue"


# --- procedure-only histories (issue 13): a screening done as a Procedure counts -------------


def procedure_only(code: str, when: date, name: str) -> dict:
    return {"done": {("procedure", code): when}, "names": {("procedure", code): name}}


def with_names(age: int, sex: str, record: dict, conditions=()) -> PatientFacts:
    return PatientFacts(
        birth_date=born_years_ago(age),
        sex=sex,
        conditions=tuple(conditions),
        last_done=record["done"],
        names=record["names"],
    )


def test_colonoscopy_procedure_alone_satisfies_colorectal_screening_for_ten_years():
    record = procedure_only("73761001", date(2019, 3, 4), "Colonoscopy")
    done = item("colorectal", with_names(60, "male", record))
    assert done.status == CareStatus.UP_TO_DATE
    assert done.next_due == date(2029, 3, 4)
    assert done.evidence == "Colonoscopy (procedure), 4 Mar 2019"
    # Ten years on, the same colonoscopy no longer counts.
    later = item("colorectal", with_names(60, "male", record), today=date(2029, 9, 1))
    assert later.status == CareStatus.OVERDUE


def test_mammography_procedure_alone_satisfies_breast_screening():
    record = procedure_only("71651007", date(2025, 6, 1), "Mammography")
    done = item("mammography", with_names(50, "female", record))
    assert done.status == CareStatus.UP_TO_DATE
    assert done.next_due == date(2027, 6, 1)
    assert done.evidence.startswith("Mammography (procedure)")


def test_cervical_smear_procedure_alone_satisfies_cervical_screening():
    record = procedure_only("90226004", date(2024, 2, 10), "Cytopathology of a genital smear")
    done = item("cervical", with_names(35, "female", record))
    assert done.status == CareStatus.UP_TO_DATE
    assert done.next_due == date(2027, 2, 10)
    assert "Cytopathology" in done.evidence


def test_retinal_exam_procedure_alone_satisfies_the_diabetic_eye_exam():
    diabetes = [(SNOMED, "44054006", date(2015, 1, 1))]
    record = procedure_only("722161008", date(2026, 5, 1), "Diabetic retinal eye exam")
    done = item("diabetic_eye", with_names(55, "male", record, diabetes))
    assert done.status == CareStatus.UP_TO_DATE
    assert done.evidence == "Diabetic retinal eye exam (procedure), 1 May 2026"
    stale = procedure_only("722161008", date(2025, 1, 1), "Diabetic retinal eye exam")
    assert item("diabetic_eye", with_names(55, "male", stale, diabetes)).status == (
        CareStatus.OVERDUE
    )


def test_the_longest_lasting_record_is_named_as_the_evidence():
    # A FIT last month lasts a year; a colonoscopy three years ago lasts ten: that one counts.
    both = {
        "done": {
            ("observation", "29771-3"): date(2026, 10, 1),
            ("procedure", "73761001"): date(2023, 1, 5),
        },
        "names": {("observation", "29771-3"): "FIT", ("procedure", "73761001"): "Colonoscopy"},
    }
    done = item("colorectal", with_names(60, "female", both))
    assert done.evidence == "Colonoscopy (procedure), 5 Jan 2023"
    assert done.last_done == date(2026, 10, 1)
