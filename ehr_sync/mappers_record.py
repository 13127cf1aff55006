"""Mappers for the rest of a real EHR's record: places (Organization, Location), procedures,
care plans, goals, devices and imaging studies. Pure like ``mappers``: rows with ``Ref``s."""

import json
from typing import Any

from fhir.resources.R4B.reference import Reference

from ehr_sync.fhir_values import (
    LOINC,
    SNOMED,
    address_line,
    as_date,
    as_utc,
    concept_columns,
    concept_label,
    contact_value,
    first,
    join_labels,
    meta_columns,
    reference_type,
)
from ehr_sync.refs import optional_ref, patient_ref
from ehr_sync.tables import Row

DICOM = "http://dicom.nema.org/resources/ontology/DCM"


def _reference_label(reference: Reference | None) -> str:
    """A reference as words: its display, else nothing (a bare id means nothing to a patient)."""
    return (reference.display or "") if reference else ""


# --- places -----------------------------------------------------------------------------------


def map_organization(organization: Any) -> list[Row]:
    return [
        {
            **meta_columns(organization),
            "name": organization.name or "",
            "type_display": join_labels(organization.type) or "",
            "phone": contact_value(organization.telecom, "phone"),
            "address": address_line(organization.address),
        }
    ]


def map_location(location: Any) -> list[Row]:
    return [
        {
            **meta_columns(location),
            "name": location.name or location.description or "",
            "address": address_line([location.address] if location.address else None),
            "phone": contact_value(location.telecom, "phone"),
            "organization_id": optional_ref("Organization", [location.managingOrganization]),
        }
    ]


# --- procedures -------------------------------------------------------------------------------


def map_procedure(procedure: Any) -> list[Row]:
    system, code, display = concept_columns(procedure.code, (SNOMED,))
    category_system, category_code, category = concept_columns(procedure.category, (SNOMED,))
    period = procedure.performedPeriod
    start = procedure.performedDateTime or (period.start if period else None)
    return [
        {
            **meta_columns(procedure),
            "patient_id": patient_ref(procedure.subject),
            "status": procedure.status,
            "category_code": category_code,
            "category": category,
            "code_system": system,
            "code": code,
            "display": display,
            "performed_start": as_utc(start),
            "performed_end": as_utc(period.end) if period else None,
            "reason": join_labels(procedure.reasonCode)
            or "; ".join(r.display for r in procedure.reasonReference or [] if r.display)
            or None,
            "body_site": join_labels(procedure.bodySite),
            "outcome": concept_label(procedure.outcome),
            "performer_id": optional_ref(
                "Practitioner", [p.actor for p in procedure.performer or []]
            ),
            "location_id": optional_ref("Location", [procedure.location]),
        }
    ]


# --- care plans and goals ---------------------------------------------------------------------


def map_care_plan(plan: Any) -> list[Row]:
    period = plan.period
    # US Core puts a fixed "assess-plan" category first; the words are in the others.
    categories = [c for c in plan.category or [] if concept_label(c) != "assess-plan"]
    return [
        {
            **meta_columns(plan),
            "patient_id": patient_ref(plan.subject),
            "status": plan.status,
            "intent": plan.intent,
            "title": plan.title or join_labels(categories) or "Care plan",
            "category": join_labels(categories) or "",
            "description": plan.description,
            "addresses": "; ".join(a.display for a in plan.addresses or [] if a.display) or None,
            "period_start": as_utc(period.start) if period else None,
            "period_end": as_utc(period.end) if period else None,
            "author": _reference_label(plan.author),
            "author_id": optional_ref("Practitioner", [plan.author]),
            "activities_json": json.dumps([_activity(a) for a in plan.activity or []]),
            "goal_fhir_ids": json.dumps(
                [g.reference.rsplit("/", 1)[-1] for g in plan.goal or [] if g.reference]
            ),
        }
    ]


def _activity(activity: Any) -> dict[str, Any]:
    detail = activity.detail
    if detail is None:
        label = _reference_label(activity.reference) or (
            "; ".join(concept_label(c) or "" for c in activity.outcomeCodeableConcept or [])
        )
        return {"what": label or "Activity", "status": "", "when": "", "detail": ""}
    when = ""
    if detail.scheduledPeriod is not None and detail.scheduledPeriod.start is not None:
        when = str(detail.scheduledPeriod.start)[:10]
    elif detail.scheduledString:
        when = detail.scheduledString
    return {
        "what": concept_label(detail.code) or detail.description or "Activity",
        "status": detail.status or "",
        "when": when,
        "detail": join_labels(detail.reasonCode) or (detail.description or ""),
    }


def map_goal(goal: Any) -> list[Row]:
    return [
        {
            **meta_columns(goal),
            "patient_id": patient_ref(goal.subject),
            "lifecycle_status": goal.lifecycleStatus,
            "achievement": concept_label(goal.achievementStatus),
            "description": concept_label(goal.description) or "",
            "category": join_labels(goal.category),
            "start_date": as_date(goal.startDate),
            "targets_json": json.dumps([_target(t) for t in goal.target or []]),
            "expressed_by": _reference_label(goal.expressedBy)
            or (reference_type(goal.expressedBy) or "" if goal.expressedBy else ""),
            "addresses": "; ".join(a.display for a in goal.addresses or [] if a.display) or None,
        }
    ]


def _target(target: Any) -> dict[str, Any]:
    measure = concept_label(target.measure) if target.measure else ""
    detail = ""
    if (quantity := target.detailQuantity) is not None:
        comparator = quantity.comparator or ""
        detail = f"{comparator}{quantity.value} {quantity.unit or quantity.code or ''}".strip()
    elif (span := target.detailRange) is not None:
        low = span.low.value if span.low else None
        high = span.high.value if span.high else None
        unit = (span.high or span.low).unit if (span.high or span.low) else ""
        detail = f"{low if low is not None else ''} to {high if high is not None else ''}"
        detail = f"{detail} {unit or ''}".strip()
    elif target.detailString:
        detail = target.detailString
    elif target.detailCodeableConcept is not None:
        detail = concept_label(target.detailCodeableConcept) or ""
    elif target.detailBoolean is not None:
        detail = "yes" if target.detailBoolean else "no"
    elif target.detailInteger is not None:
        detail = str(target.detailInteger)
    due = target.dueDate or ""
    if not due and target.dueDuration is not None:
        due = f"within {target.dueDuration.value} {target.dueDuration.unit or ''}".strip()
    return {"measure": measure or "", "target": detail, "due": str(due)}


# --- devices and imaging ----------------------------------------------------------------------


def map_device(device: Any) -> list[Row]:
    system, code, display = concept_columns(device.type, (SNOMED,))
    names = [n.name for n in device.deviceName or [] if n.name]
    carrier = first(device.udiCarrier)
    return [
        {
            **meta_columns(device),
            "patient_id": patient_ref(device.patient, "patient"),
            "status": device.status,
            "code_system": system,
            "code": code,
            "display": display or (names[0] if names else ""),
            "udi": (carrier.carrierHRF or carrier.deviceIdentifier) if carrier else None,
            "manufacturer": device.manufacturer,
            "model": device.modelNumber,
            "lot_number": device.lotNumber,
            "serial_number": device.serialNumber,
            "manufactured": as_utc(device.manufactureDate),
            "expires": as_utc(device.expirationDate),
        }
    ]


def map_imaging_study(study: Any) -> list[Row]:
    series = study.series or []
    modalities = [m.display or m.code for m in study.modality or [] if m.display or m.code]
    modalities += [
        s.modality.display or s.modality.code
        for s in series
        if s.modality and (s.modality.display or s.modality.code)
    ]
    body_sites = [s.bodySite.display or s.bodySite.code for s in series if s.bodySite]
    _, _, procedure = concept_columns(first(study.procedureCode), (SNOMED, LOINC))
    return [
        {
            **meta_columns(study),
            "patient_id": patient_ref(study.subject),
            "status": study.status,
            "started": as_utc(study.started),
            "modality": ", ".join(dict.fromkeys(modalities)),
            "description": study.description,
            "procedure": procedure or None,
            "body_site": ", ".join(dict.fromkeys(b for b in body_sites if b)) or None,
            "series_count": study.numberOfSeries if study.numberOfSeries is not None else None,
            "instance_count": study.numberOfInstances,
        }
    ]
