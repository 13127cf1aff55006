"""The rest of the record a real EHR sends, as patients see it: procedures and surgeries, devices,
imaging studies, social history, questionnaires and exam findings, and the care plan (the EHR's
plans and goals beside the patient's own goals).

What patients see, per type: everything the EHR sent except what it withdrew ("entered in
error"); imaging studies also not when cancelled, observations not when cancelled. Claims,
explanations of benefit, coverage, care teams and medication administrations are not synced
(see README). Every read checks access and is audited, like ``records``.
"""

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from db.models import (
    CareGoal,
    CarePlan,
    Device,
    ImagingStudy,
    Location,
    Observation,
    Practitioner,
    Procedure,
    User,
    saved_id,
)
from portal.services import access
from portal.services.audited_reads import log_read
from portal.services.readings.goals import GoalProgress, goals_with_progress
from portal.services.result_flags import value_text
from portal.services.results import HIDDEN_STATUSES
from portal.services.withdrawn import WITHDRAWN, not_withdrawn

VIEWED_HISTORY = "viewed procedures, devices, imaging and social history"
VIEWED_CARE_PLAN = "viewed care plan"
SURGICAL_CATEGORY = "387713003"  # SNOMED CT "Surgical procedure"
# Many EHRs (Synthea's records, for one) send no Procedure.category: an operation is then known
# by its name. Referrals and work-ups named after an operation are not operations.
_OPERATION_WORDS = re.compile(
    r"ectomy|otomy|ostomy|plasty|pexy|transplant|surgical|surgery|excision|resection|"
    r"amputation|replacement|repair|bypass|implantation|insertion of|reduction of",
    re.IGNORECASE,
)
_NOT_AN_OPERATION = re.compile(r"referral|evaluation|testing|assessment|screening", re.IGNORECASE)
# Observation categories shown in their own sections, with the words patients see.
SECTION_CATEGORIES = {
    "social-history": "Social history",
    "survey": "Questionnaires and scores",
    "exam": "Exam findings",
}
# SNOMED CT displays end in a semantic tag, "(procedure)", that means nothing to a patient.
_SEMANTIC_TAG = re.compile(
    r"\s*\((procedure|finding|disorder|regime/therapy|qualifier value|observable entity|"
    r"physical object|situation|body structure|record artifact|substance|event|"
    r"assessment scale|environment|person|product|medicinal product)\)$"
)


def is_surgical(category_code: str | None, category: str, name: str) -> bool:
    """An operation: so categorised, else (no category sent) named like one."""
    if category_code == SURGICAL_CATEGORY or "surg" in category.lower():
        return True
    if category_code or category:
        return False
    return bool(_OPERATION_WORDS.search(name)) and not _NOT_AN_OPERATION.search(name)


def readable(text: str | None) -> str:
    """A coded display as a patient reads it: without the SNOMED CT semantic tag."""
    return _SEMANTIC_TAG.sub("", text or "").strip()


@dataclass(frozen=True)
class ProcedureRecord:
    procedure_id: int
    name: str
    status: str
    performed: datetime | None
    ended: datetime | None
    surgical: bool
    reason: str
    body_site: str
    place: str
    performer: str


@dataclass(frozen=True)
class DeviceRecord:
    device_id: int
    name: str
    status: str
    udi: str
    manufacturer: str
    model: str
    expires: datetime | None


@dataclass(frozen=True)
class ImagingRecord:
    study_id: int
    started: datetime | None
    modality: str
    description: str
    body_site: str
    images: int | None


@dataclass(frozen=True)
class ObservationEntry:
    observation_id: int
    name: str
    value: str
    unit: str
    effective_at: datetime | None


@dataclass(frozen=True)
class HealthHistory:
    procedures: list[ProcedureRecord]  # newest first
    devices: list[DeviceRecord]
    imaging: list[ImagingRecord]  # newest first
    sections: dict[str, list[ObservationEntry]]  # section title -> newest first

    @property
    def surgical_history(self) -> list[ProcedureRecord]:
        return [p for p in self.procedures if p.surgical]


def health_history(
    user: User, patient_id: int, *, session: Session, now: datetime | None = None
) -> HealthHistory:
    """Procedures (surgical history marked), devices, imaging studies and the social-history,
    questionnaire and exam observations of one record (audited read)."""
    access.require_patient_access(
        user, patient_id, session=session, category=VIEWED_HISTORY, now=now
    )
    history = HealthHistory(
        procedures=_procedures(patient_id, session=session),
        devices=_devices(patient_id, session=session),
        imaging=_imaging(patient_id, session=session),
        sections=_observation_sections(patient_id, session=session),
    )
    log_read(user, patient_id, session=session, category=VIEWED_HISTORY, now=now)
    return history


def _procedures(patient_id: int, *, session: Session) -> list[ProcedureRecord]:
    rows = session.exec(
        select(Procedure, Location.name, Practitioner.name)
        .outerjoin(Location, col(Procedure.location_id) == Location.id)
        .outerjoin(Practitioner, col(Procedure.performer_id) == Practitioner.id)
        .where(Procedure.patient_id == patient_id, Procedure.status != WITHDRAWN)
        .order_by(col(Procedure.performed_start).desc().nulls_last(), col(Procedure.id).desc())
    ).all()
    return [
        ProcedureRecord(
            procedure_id=saved_id(p),
            name=readable(p.display) or p.code or "(unnamed procedure)",
            status=p.status,
            performed=p.performed_start,
            ended=p.performed_end,
            surgical=is_surgical(p.category_code, p.category, p.display),
            reason=readable(p.reason),
            body_site=readable(p.body_site),
            place=place or "",
            performer=performer or "",
        )
        for p, place, performer in rows
    ]


def _devices(patient_id: int, *, session: Session) -> list[DeviceRecord]:
    rows = session.exec(
        select(Device)
        .where(
            Device.patient_id == patient_id,
            not_withdrawn(Device.status),
        )
        .order_by(col(Device.status), col(Device.display), col(Device.id))
    ).all()
    return [
        DeviceRecord(
            device_id=saved_id(d),
            name=readable(d.display) or d.code or "Device",
            status=d.status or "",
            udi=d.udi or "",
            manufacturer=d.manufacturer or "",
            model=d.model or "",
            expires=d.expires,
        )
        for d in rows
    ]


def _imaging(patient_id: int, *, session: Session) -> list[ImagingRecord]:
    rows = session.exec(
        select(ImagingStudy)
        .where(
            ImagingStudy.patient_id == patient_id,
            col(ImagingStudy.status).not_in((WITHDRAWN, "cancelled")),
        )
        .order_by(col(ImagingStudy.started).desc().nulls_last(), col(ImagingStudy.id).desc())
    ).all()
    return [
        ImagingRecord(
            study_id=saved_id(s),
            started=s.started,
            modality=s.modality,
            description=readable(s.description or s.procedure),
            body_site=readable(s.body_site),
            images=s.instance_count,
        )
        for s in rows
    ]


def _observation_sections(
    patient_id: int, *, session: Session
) -> dict[str, list[ObservationEntry]]:
    # One query over the (patient, category, time) index for the three categories.
    rows = session.exec(
        select(Observation)
        .where(
            Observation.patient_id == patient_id,
            col(Observation.category).in_(list(SECTION_CATEGORIES)),
            col(Observation.status).not_in(HIDDEN_STATUSES),
        )
        .order_by(col(Observation.effective_at).desc().nulls_last(), col(Observation.id).desc())
    ).all()
    sections: dict[str, list[ObservationEntry]] = {
        title: [] for title in SECTION_CATEGORIES.values()
    }
    for o in rows:
        sections[SECTION_CATEGORIES[o.category]].append(
            ObservationEntry(
                observation_id=saved_id(o),
                name=readable(o.display) or o.code,
                value=readable(value_text(o.value, o.value_string)),
                unit=o.unit or "",
                effective_at=o.effective_at,
            )
        )
    return sections


# --- the care plan ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanActivity:
    what: str
    status: str
    when: str
    detail: str


@dataclass(frozen=True)
class CarePlanRecord:
    plan_id: int
    title: str
    status: str
    start: datetime | None
    end: datetime | None
    description: str
    addresses: str
    author: str
    activities: list[PlanActivity]
    goal_ids: list[int]  # CareGoal ids of the goals it names

    @property
    def active(self) -> bool:
        return self.status in ("active", "on-hold", "draft")


@dataclass(frozen=True)
class GoalTarget:
    measure: str
    target: str
    due: str


@dataclass(frozen=True)
class CareGoalRecord:
    goal_id: int
    description: str
    status: str
    achievement: str
    start: date | None
    targets: list[GoalTarget]
    set_by: str
    addresses: str


@dataclass(frozen=True)
class CarePlanView:
    plans: list[CarePlanRecord]  # active first, then newest
    goals: list[CareGoalRecord]  # the care team's goals from the EHR
    own_goals: list[GoalProgress]  # the patient's own goals (My readings)


def care_plan(user: User, patient_id: int, *, session: Session, now: datetime) -> CarePlanView:
    """The EHR's care plans (activities) and goals (targets, who set them), beside the
    patient's own goals (audited read)."""
    access.require_patient_access(
        user, patient_id, session=session, category=VIEWED_CARE_PLAN, now=now
    )
    goals = session.exec(
        select(CareGoal)
        .where(CareGoal.patient_id == patient_id, CareGoal.lifecycle_status != WITHDRAWN)
        .order_by(col(CareGoal.start_date).desc().nulls_last(), col(CareGoal.id).desc())
    ).all()
    goal_ids = {g.fhir_id: saved_id(g) for g in goals}
    plans = session.exec(
        select(CarePlan)
        .where(CarePlan.patient_id == patient_id, CarePlan.status != WITHDRAWN)
        .order_by(col(CarePlan.period_start).desc().nulls_last(), col(CarePlan.id).desc())
    ).all()
    plan_records = [_plan_record(p, goal_ids) for p in plans]
    plan_records.sort(key=lambda p: not p.active)  # stable: newest first within each group
    view = CarePlanView(
        plans=plan_records,
        goals=[_goal_record(g) for g in goals],
        own_goals=goals_with_progress(user, patient_id, session=session, now=now),
    )
    log_read(user, patient_id, session=session, category=VIEWED_CARE_PLAN, now=now)
    return view


def _plan_record(plan: CarePlan, goal_ids: dict[str, int]) -> CarePlanRecord:
    activities = [
        PlanActivity(
            what=readable(a.get("what")),
            status=a.get("status") or "",
            when=a.get("when") or "",
            detail=readable(a.get("detail")),
        )
        for a in _json_list(plan.activities_json)
    ]
    return CarePlanRecord(
        plan_id=saved_id(plan),
        title=readable(plan.title) or "Care plan",
        status=plan.status,
        start=plan.period_start,
        end=plan.period_end,
        description=plan.description or "",
        addresses=readable(plan.addresses),
        author=plan.author,
        activities=activities,
        goal_ids=[goal_ids[g] for g in _json_list(plan.goal_fhir_ids) if g in goal_ids],
    )


def _goal_record(goal: CareGoal) -> CareGoalRecord:
    return CareGoalRecord(
        goal_id=saved_id(goal),
        description=readable(goal.description) or "Goal",
        status=goal.lifecycle_status,
        achievement=goal.achievement or "",
        start=goal.start_date,
        targets=[
            GoalTarget(readable(t.get("measure")), t.get("target") or "", t.get("due") or "")
            for t in _json_list(goal.targets_json)
        ],
        set_by=goal.expressed_by or "",
        addresses=readable(goal.addresses),
    )


def _json_list(text: str | None) -> list[Any]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return value if isinstance(value, list) else []
