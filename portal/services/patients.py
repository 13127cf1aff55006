"""Staff patient lookup: find a patient by name, birth date or MRN, and open the chart."""

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from db.models import Patient, User, saved_id
from portal.errors import InvalidInput
from portal.permissions import Action
from portal.services import access, audit
from portal.services.audited_reads import (
    LISTED_IN_SEARCH,
    OPENED_CHART,
    SEARCHED_PATIENTS,
    log_read,
)
from portal.services.permissions import require_permission
from portal.services.rows import MISSING_PATIENT, get_or_not_found

# Beyond this many words a name query is almost surely not a name; the number of family/given
# splits tried grows with each word.
MAX_NAME_WORDS = 5


@dataclass(frozen=True)
class PatientMatch:
    patient_id: int
    name: str
    family_name: str
    given_name: str
    birth_date: date | None
    sex: str
    mrn: str


@dataclass(frozen=True)
class SearchResult:
    matches: list[PatientMatch]
    truncated: bool  # more patients matched than the limit: the search should be narrowed


@dataclass(frozen=True)
class ChartHeader:
    """Who a staff member is looking at: enough to be sure it is the right person."""

    patient_id: int
    name: str
    birth_date: date | None
    mrn: str


def name_splits(text: str) -> list[tuple[str, str]]:
    """(family prefix, given prefix) pairs a typed name may mean, lower-cased; '' matches any.

    'smith, jo' means family 'smith' and given 'jo'. Without a comma the words may be in either
    order and a family name may have several words ('anna van der berg'), so every split is tried.
    """
    text = " ".join(text.lower().split())
    if not text:
        return []
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        return [(family, given)] if family or given else []
    words = text.split(" ")
    if len(words) > MAX_NAME_WORDS:
        raise InvalidInput("Please enter a shorter name.")
    if len(words) == 1:
        return [(text, ""), ("", text)]
    splits = []
    for i in range(1, len(words)):
        first, rest = " ".join(words[:i]), " ".join(words[i:])
        splits += [(rest, first), (first, rest)]
    return splits


def _name_condition(splits: list[tuple[str, str]]) -> ColumnElement[bool]:
    alternatives = []
    for family, given in splits:
        # autoescape: a typed % or _ is a character to match, not a wildcard.
        parts = []
        if family:
            parts.append(col(Patient.family_name_lower).startswith(family, autoescape=True))
        if given:
            parts.append(col(Patient.given_name_lower).startswith(given, autoescape=True))
        alternatives.append(and_(*parts))
    return or_(*alternatives)


def search_patients(
    user: User,
    *,
    session: Session,
    name: str | None = None,
    birth_date: date | None = None,
    mrn: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> SearchResult:
    """Staff only. Patients matching every criterion given (name prefix, birth date, exact MRN)."""
    require_permission(
        user, Action.READ_ANY_CHART, session=session, now=now, category=SEARCHED_PATIENTS
    )
    splits = name_splits(name or "")
    mrn = (mrn or "").strip()
    if not (splits or birth_date or mrn):
        raise InvalidInput("Enter a name, a birth date or an MRN to search.")
    conditions, used = [], []
    if splits:
        conditions.append(_name_condition(splits))
        used.append("name")
    if birth_date:
        conditions.append(col(Patient.birth_date) == birth_date)
        used.append("birth date")
    if mrn:
        conditions.append(col(Patient.mrn) == mrn)
        used.append("MRN")
    patients = session.exec(
        select(Patient)
        .where(*conditions)
        .order_by(Patient.family_name_lower, Patient.given_name_lower, col(Patient.id))
        .limit(limit + 1)
    ).all()
    matches = [
        PatientMatch(
            patient_id=saved_id(p),
            name=p.display_name,
            family_name=p.family_name,
            given_name=p.given_name,
            birth_date=p.birth_date,
            sex=p.sex or "",
            mrn=p.mrn or "",
        )
        for p in patients[:limit]
    ]
    # The log says how staff searched, never what they typed: names and MRNs are PHI.
    detail = f"by {', '.join(used)}; {len(matches)} shown"
    # One entry per patient shown, so each sees the search in their access log.
    audit.record_listed(
        session=session,
        actor=user,
        category=LISTED_IN_SEARCH if matches else SEARCHED_PATIENTS,
        patient_ids=[m.patient_id for m in matches],
        detail=detail,
        now=now,
    )
    session.commit()
    return SearchResult(matches=matches, truncated=len(patients) > limit)


def _header(patient_id: int, *, session: Session) -> ChartHeader:
    patient = get_or_not_found(session, Patient, patient_id, MISSING_PATIENT)
    return ChartHeader(
        patient_id=saved_id(patient),
        name=patient.display_name,
        birth_date=patient.birth_date,
        mrn=patient.mrn or "",
    )


def open_chart(
    user: User, patient_id: int, *, session: Session, now: datetime | None = None
) -> ChartHeader:
    """Staff only. Open a patient's chart from lookup; audited as 'opened chart'."""
    require_permission(
        user,
        Action.READ_ANY_CHART,
        session=session,
        now=now,
        patient_id=patient_id,
        category=OPENED_CHART,
    )
    access.require_patient_access(user, patient_id, session=session, category=OPENED_CHART, now=now)
    header = _header(patient_id, session=session)
    log_read(user, patient_id, session=session, category=OPENED_CHART, now=now)
    return header


def chart_header(user: User, patient_id: int, *, session: Session) -> ChartHeader:
    """Staff only. The open chart's banner (name, birth date, MRN), access-checked.

    Not audited on its own: the banner is only drawn above a page whose read is audited, and the
    opening itself was audited by ``open_chart``.
    """
    require_permission(
        user,
        Action.READ_ANY_CHART,
        session=session,
        now=None,
        patient_id=patient_id,
        category=OPENED_CHART,
    )
    access.require_patient_access(user, patient_id, session=session, category=OPENED_CHART)
    return _header(patient_id, session=session)
