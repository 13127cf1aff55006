"""Preventive care: which screenings and vaccines are due, computed from the record by the table
in ``preventive_rules``. ``evaluate`` is pure (facts in, items out) so each rule is tested at its
edges; ``preventive_care`` gathers the facts with one query per record type, reading only the
codes the rules name. Procedures count (a colonoscopy, a mammogram, a Pap smear, a retinal exam),
and so do vaccines given elsewhere (any Immunization the EHR holds); each item names the record
that satisfied it."""

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, SQLColumnExpression, case
from sqlmodel import Session, col, select

from db.models import (
    Condition,
    DiagnosticReport,
    Encounter,
    Immunization,
    Observation,
    Patient,
    Procedure,
    User,
    VisitRequest,
    VisitRequestStatus,
)
from portal.errors import NotFound
from portal.services import access
from portal.services.audited_reads import log_read
from portal.services.care_record import readable
from portal.services.preventive_rules import RULES, RULES_BY_CODE, PreventiveRule
from portal.services.rows import MISSING_PATIENT, get_or_not_found
from portal.services.scheduling import visit_requests
from portal.timefmt import format_date, local_date, today_local

VIEWED_PREVENTIVE = "viewed preventive care"
# How long after its due date an item counts as "due" before it becomes "overdue".
GRACE_DAYS = 90
REASON_PREFIX = "Preventive care: "
_NOT_DONE = ("entered-in-error", "not-done", "cancelled")
_ACTIVE_CONDITION = ("active", "recurrence", "relapse")


class CareStatus(StrEnum):
    OVERDUE = "overdue"
    DUE = "due"
    UP_TO_DATE = "up_to_date"


STATUS_LABELS = {
    CareStatus.OVERDUE: "Overdue",
    CareStatus.DUE: "Due",
    CareStatus.UP_TO_DATE: "Up to date",
}


@dataclass(frozen=True)
class PatientFacts:
    """What the rules look at: age, sex, active conditions, and when each coded thing was done."""

    birth_date: date | None
    sex: str | None
    conditions: tuple[tuple[str | None, str, date | None], ...] = ()  # (system, code, onset)
    last_done: dict[tuple[str, str], date] | None = None  # (evidence source, code) -> date
    # (evidence source, code) -> the latest such record in words ("Colonoscopy"), to name it
    names: dict[tuple[str, str], str] | None = None


@dataclass(frozen=True)
class CareItem:
    rule_code: str
    name: str
    authority: str
    status: CareStatus
    why: str
    last_done: date | None
    next_due: date | None  # None: done once, never due again
    visit_type: str
    requested: bool = False
    evidence: str = ""  # the record that satisfied it: "Colonoscopy (procedure), 2 Apr 2021"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


# --- the pure part --------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months; the 31st becomes the month's last day (Feb 29 -> Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def age_in_months(birth_date: date, today: date) -> int:
    months = (today.year - birth_date.year) * 12 + today.month - birth_date.month
    return (
        months - 1
        if today.day < birth_date.day and add_months(birth_date, months) > today
        else months
    )


def _matches(rule: PreventiveRule, system: str | None, code: str) -> bool:
    group = rule.condition
    if group is None:
        return False
    system = (system or "").lower()
    if ("snomed" in system or not system) and code in group.snomed:
        return True
    if "icd" in system or not system:
        return any(code.upper().startswith(p) for p in group.icd10_prefixes)
    return False


def _eligible_from(rule: PreventiveRule, facts: PatientFacts, today: date) -> date | None:
    """The day the patient became eligible, or None when the rule does not apply today."""
    if rule.sex and (facts.sex or "").lower() != rule.sex:
        return None
    starts: list[date] = []
    needs_age = rule.min_age is not None or rule.max_age is not None or rule.min_age_months
    if needs_age:
        if facts.birth_date is None:
            return None
        months = age_in_months(facts.birth_date, today)
        min_months = rule.min_age_months if rule.min_age_months is not None else 0
        if rule.min_age is not None:
            min_months = max(min_months, rule.min_age * 12)
        if months < min_months:
            return None
        if rule.max_age is not None and months >= (rule.max_age + 1) * 12:
            return None
        starts.append(add_months(facts.birth_date, min_months))
    if rule.condition is not None:
        onsets = [onset for system, code, onset in facts.conditions if _matches(rule, system, code)]
        if not onsets:
            return None
        # An undated diagnosis counts from today: due now, not already overdue.
        starts.append(min(onset or today for onset in onsets))
    return max(starts) if starts else today


def _season_start(today: date, month_day: tuple[int, int]) -> date:
    start = date(today.year, *month_day)
    return start if today >= start else date(today.year - 1, *month_day)


SOURCE_WORDS = {
    "observation": "lab result",
    "report": "report",
    "immunization": "vaccine record",
    "encounter": "visit",
    "procedure": "procedure",
}


def _last_done(
    rule: PreventiveRule, facts: PatientFacts
) -> tuple[date | None, date | None, tuple[str, str] | None]:
    """(latest date any evidence was done, when the longest-lasting evidence runs out, and the
    (source, code) of the record that lasts longest: the one that satisfies the rule)."""
    done = facts.last_done or {}
    last: date | None = None
    expires: date | None = None
    forever = False
    # (when it runs out, (source, code)) of the longest-lasting evidence so far
    best: tuple[date, tuple[str, str]] | None = None
    for evidence in rule.evidence:
        keys = [
            (evidence.source, code) for code in evidence.codes if (evidence.source, code) in done
        ]
        if not keys:
            continue
        key = max(keys, key=lambda k: done[k])
        latest = done[key]
        months = evidence.months if evidence.months is not None else rule.interval_months
        until = date.max if months is None else add_months(latest, months)
        if best is None or until > best[0] or (until == best[0] and latest > done[best[1]]):
            best = until, key
        last = max(last, latest) if last else latest
        if months is None:
            forever = True
            continue
        expires = max(expires, until) if expires else until
    return last, (None if forever else expires), (best[1] if best else None)


def _evidence_text(facts: PatientFacts, key: tuple[str, str] | None) -> str:
    if key is None:
        return ""
    name = (facts.names or {}).get(key) or key[1]
    return (
        f"{name} ({SOURCE_WORDS.get(key[0], key[0])}), {format_date((facts.last_done or {})[key])}"
    )


def _why(rule: PreventiveRule, facts: PatientFacts, today: date) -> str:
    age = age_in_months(facts.birth_date, today) // 12 if facts.birth_date else None
    return rule.why.format(age=age if age is not None else "of eligible age")


def evaluate(
    facts: PatientFacts, today: date, rules: Iterable[PreventiveRule] = RULES
) -> list[CareItem]:
    """Every rule that applies to the patient today, overdue first, then due, then up to date."""
    items: list[CareItem] = []
    for rule in rules:
        eligible_from = _eligible_from(rule, facts, today)
        if eligible_from is None:
            continue
        last, expires, satisfied_by = _last_done(rule, facts)
        next_due: date | None
        if rule.season_start is not None:
            season = _season_start(today, rule.season_start)
            if last is not None and last >= season:
                next_due = date(season.year + 1, *rule.season_start)
            else:
                next_due = max(season, eligible_from)
        elif last is None:
            next_due = eligible_from
        else:
            next_due = expires
        if next_due is None or today < next_due:
            status = CareStatus.UP_TO_DATE
        elif today < next_due + timedelta(days=GRACE_DAYS):
            status = CareStatus.DUE
        else:
            status = CareStatus.OVERDUE
        items.append(
            CareItem(
                rule_code=rule.code,
                name=rule.name,
                authority=rule.authority,
                status=status,
                why=_why(rule, facts, today),
                last_done=last,
                next_due=next_due,
                visit_type=rule.visit_type,
                evidence=_evidence_text(facts, satisfied_by),
            )
        )
    order = list(CareStatus)
    return sorted(items, key=lambda i: (order.index(i.status), i.next_due or date.max))


# --- the database part ----------------------------------------------------------------------


def _codes(source: str) -> set[str]:
    codes = {c for rule in RULES for e in rule.evidence if e.source == source for c in e.codes}
    if source == "immunization":
        # CVX codes are written both "09" and "9".
        codes |= {c.lstrip("0") for c in codes if c.lstrip("0")}
    return codes


def _latest_by_code(
    session: Session,
    column: SQLColumnExpression[str | None],
    moment: SQLColumnExpression[datetime | None],
    name: SQLColumnExpression[str | None],
    *where: ColumnElement[bool],
) -> dict[str, tuple[datetime, str]]:
    """The latest moment per code, with the words of that record (to name it as evidence).
    Only the codes the rules name are read, so this stays a handful of rows per patient."""
    rows = session.exec(select(column, moment, name).where(*where, moment.is_not(None))).all()
    latest: dict[str, tuple[datetime, str]] = {}
    for code, when, words in rows:
        if when is None:  # never: the query reads only rows that have one
            continue
        if code and (code not in latest or when > latest[code][0]):
            latest[code] = (when, words or "")
    return latest


def _gather_facts(patient: Patient, *, session: Session) -> PatientFacts:
    """The patient's facts in six queries (the rules' codes only), whatever the record's size."""
    pid = patient.id
    conditions = session.exec(
        select(col(Condition.code_system), col(Condition.code), col(Condition.onset_date)).where(
            col(Condition.patient_id) == pid,
            col(Condition.code).is_not(None),
            col(Condition.clinical_status).in_(_ACTIVE_CONDITION)
            | col(Condition.clinical_status).is_(None),
        )
    ).all()
    found: dict[tuple[str, str], date] = {}
    names: dict[tuple[str, str], str] = {}

    def keep(source: str, latest: dict[str, tuple[datetime, str]]) -> None:
        for code, (moment, words) in latest.items():
            day = local_date(moment)
            key = (source, code.zfill(2) if source == "immunization" else code)
            if key not in found or day >= found[key]:
                found[key], names[key] = day, readable(words)

    keep(
        "observation",
        _latest_by_code(
            session,
            col(Observation.code),
            col(Observation.effective_at),
            col(Observation.display),
            col(Observation.patient_id) == pid,
            col(Observation.code).in_(_codes("observation")),
            col(Observation.status).not_in(_NOT_DONE),
        ),
    )
    keep(
        "report",
        _latest_by_code(
            session,
            col(DiagnosticReport.code),
            col(DiagnosticReport.effective_at),
            col(DiagnosticReport.display),
            col(DiagnosticReport.patient_id) == pid,
            col(DiagnosticReport.code).in_(_codes("report")),
            col(DiagnosticReport.status).not_in(_NOT_DONE),
        ),
    )
    keep(
        "immunization",
        _latest_by_code(
            session,
            col(Immunization.code),
            col(Immunization.occurrence),
            case(
                (
                    col(Immunization.primary_source).is_(False),
                    Immunization.display + " (given elsewhere)",
                ),
                else_=Immunization.display,
            ),
            col(Immunization.patient_id) == pid,
            col(Immunization.code).in_(_codes("immunization")),
            col(Immunization.status).not_in(_NOT_DONE),
        ),
    )
    keep(
        "encounter",
        _latest_by_code(
            session,
            col(Encounter.type_code),
            col(Encounter.start),
            col(Encounter.type_display),
            col(Encounter.patient_id) == pid,
            col(Encounter.type_code).in_(_codes("encounter")),
            col(Encounter.status).not_in((*_NOT_DONE, "planned")),
        ),
    )
    keep(
        "procedure",
        _latest_by_code(
            session,
            col(Procedure.code),
            col(Procedure.performed_start),
            col(Procedure.display),
            col(Procedure.patient_id) == pid,
            col(Procedure.code).in_(_codes("procedure")),
            col(Procedure.status) == "completed",
        ),
    )
    return PatientFacts(
        birth_date=patient.birth_date,
        sex=patient.sex,
        # Every condition read has a code (the query asks for them); the test says so to mypy.
        conditions=tuple((s, c, onset) for s, c, onset in conditions if c is not None),
        last_done=found,
        names=names,
    )


def _requested_rules(patient_id: int, *, session: Session) -> set[str]:
    reasons = session.exec(
        select(VisitRequest.reason).where(
            VisitRequest.patient_id == patient_id,
            VisitRequest.status == VisitRequestStatus.OPEN,
            VisitRequest.reason.startswith(REASON_PREFIX),
        )
    ).all()
    names = {r.removeprefix(REASON_PREFIX).split("\n", 1)[0] for r in reasons}
    return {rule.code for rule in RULES if rule.name in names}


def preventive_care(
    user: User, patient_id: int, *, session: Session, now: datetime
) -> list[CareItem]:
    """The patient's preventive-care list (audited read), marking items already requested."""
    access.require_patient_access(
        user, patient_id, session=session, category=VIEWED_PREVENTIVE, now=now
    )
    patient = get_or_not_found(session, Patient, patient_id, MISSING_PATIENT)
    items = evaluate(_gather_facts(patient, session=session), today_local(now))
    requested = _requested_rules(patient_id, session=session)
    items = [
        CareItem(**{**item.__dict__, "requested": item.rule_code in requested}) for item in items
    ]
    log_read(user, patient_id, session=session, category=VIEWED_PREVENTIVE, now=now)
    return items


def request_preventive_visit(
    user: User, patient_id: int, rule_code: str, *, session: Session, now: datetime
) -> VisitRequest:
    """One click: a visit request for this item, in the staff triage inbox."""
    # Access first: a refusal must not depend on (or reveal) which items exist.
    access.require_patient_access(
        user, patient_id, session=session, category=visit_requests.CATEGORY, now=now
    )
    rule = RULES_BY_CODE.get(rule_code)
    if rule is None:
        raise NotFound("We could not find this preventive-care item.")
    return visit_requests.request_visit(
        user,
        session=session,
        now=now,
        patient_id=patient_id,
        visit_type=rule.visit_type,
        reason=f"{REASON_PREFIX}{rule.name}",
    )
