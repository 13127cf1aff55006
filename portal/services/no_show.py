"""No-show insight: an explainable model of who misses visits, trained on the clinic's own history.

A logistic regression (scikit-learn) over lead time, earlier no-shows, visit type, weekday, hour
and reminders sent. It is judged on the newest fifth of the history it never saw (AUC), and each
upcoming visit gets a risk with the two features that raise it most, in plain words. Features come
from two grouped queries (a window function counts each patient's earlier no-shows).
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from db.models import Booking, BookingStatus, Patient, ReminderSent, User
from portal.permissions import Action
from portal.services import audited_reads, notifications
from portal.services.permissions import require_permission
from portal.services.scheduling import notices
from portal.services.scheduling.visit_types import label as visit_type_label
from portal.timefmt import to_local

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

HISTORY_DAYS = 730
MIN_VISITS = 40
MIN_NO_SHOWS = 5
HIGH_RISK = 0.5  # model probability at or above which a visit is flagged
UPCOMING_DAYS = 14
NUMERIC = ["lead_days", "prior_no_shows", "prior_visits", "reminders", "hour"]
CATEGORICAL = ["visit_type", "weekday"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_OUTCOMES = (BookingStatus.ARRIVED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
VIEWED_RISK = "viewed no-show risk"


@dataclass(frozen=True)
class VisitFeatures:
    booking_id: int
    patient_id: int
    start: datetime
    visit_type: str
    lead_days: float
    prior_no_shows: int
    prior_visits: int
    reminders: int
    no_show: bool | None  # None for an upcoming visit

    def row(self) -> dict[str, Any]:
        local = to_local(self.start)
        return {
            "lead_days": self.lead_days,
            "prior_no_shows": self.prior_no_shows,
            "prior_visits": self.prior_visits,
            "reminders": self.reminders,
            "hour": local.hour,
            "visit_type": self.visit_type,
            "weekday": WEEKDAYS[local.weekday()],
        }


@dataclass(frozen=True)
class RiskRow:
    booking_id: int
    patient_name: str
    start: datetime
    visit_type: str
    risk: float
    high: bool
    reasons: list[str]


@dataclass(frozen=True)
class NoShowInsight:
    trained_on: int  # visits with an outcome used for training
    no_shows: int
    auc: float | None  # on the held-out newest history; None when it cannot be measured
    rate_with_reminder: float | None
    rate_without_reminder: float | None
    upcoming: list[RiskRow]
    message: str = ""  # why there is no model, in plain words


# --- features -------------------------------------------------------------------------------


def _features(
    session: Session, *, since: datetime, until: datetime, upcoming: bool
) -> list[VisitFeatures]:
    """Visits in [since, until) with outcomes (history) or still booked (upcoming)."""
    earlier = (
        select(
            col(Booking.id).label("booking_id"),
            func.coalesce(
                func.sum(case((col(Booking.status) == BookingStatus.NO_SHOW, 1), else_=0)).over(
                    partition_by=col(Booking.patient_id),
                    order_by=(col(Booking.start), col(Booking.id)),
                    rows=(None, -1),
                ),
                0,
            ).label("prior_no_shows"),
            func.coalesce(
                func.sum(case((col(Booking.status).in_(_OUTCOMES), 1), else_=0)).over(
                    partition_by=col(Booking.patient_id),
                    order_by=(col(Booking.start), col(Booking.id)),
                    rows=(None, -1),
                ),
                0,
            ).label("prior_visits"),
        )
        .where(col(Booking.status).in_([*_OUTCOMES, BookingStatus.BOOKED]))
        .subquery()
    )
    reminders = (
        select(col(ReminderSent.booking_id), func.count(col(ReminderSent.id)).label("n"))
        .group_by(col(ReminderSent.booking_id))
        .subquery()
    )
    statuses = [BookingStatus.BOOKED] if upcoming else list(_OUTCOMES)
    # Nine columns: more than sqlmodel's select() is typed for, so SQLAlchemy's (the same SQL).
    rows = session.execute(
        sa_select(
            col(Booking.id),
            col(Booking.patient_id),
            col(Booking.start),
            col(Booking.created_at),
            col(Booking.visit_type),
            col(Booking.status),
            earlier.c.prior_no_shows,
            earlier.c.prior_visits,
            func.coalesce(reminders.c.n, 0),
        )
        .join(earlier, earlier.c.booking_id == Booking.id)
        .outerjoin(reminders, reminders.c.booking_id == Booking.id)
        .where(
            col(Booking.start) >= since,
            col(Booking.start) < until,
            col(Booking.status).in_(statuses),
        )
        .order_by(col(Booking.start), col(Booking.id))
    ).all()
    return [
        VisitFeatures(
            booking_id=bid,
            patient_id=pid,
            start=start,
            visit_type=vt,
            lead_days=max(0.0, (start - created).total_seconds() / 86400),
            prior_no_shows=int(prior_ns or 0),
            prior_visits=int(prior_v or 0),
            reminders=int(n or 0),
            no_show=None if upcoming else status == BookingStatus.NO_SHOW,
        )
        for bid, pid, start, created, vt, status, prior_ns, prior_v, n in rows
    ]


# --- the model ------------------------------------------------------------------------------


def _frame(visits: list[VisitFeatures]) -> Any:  # a pandas DataFrame (pandas is untyped here)
    import pandas as pd

    return pd.DataFrame([v.row() for v in visits], columns=NUMERIC + CATEGORICAL)


def train(visits: list[VisitFeatures]) -> "Pipeline":
    # scikit-learn is imported here: pages that only read flags (the staff calendar) skip it.
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    model = Pipeline(
        [
            (
                "prepare",
                ColumnTransformer(
                    [
                        ("numbers", StandardScaler(), NUMERIC),
                        ("kinds", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
                    ]
                ),
            ),
            ("model", LogisticRegression(class_weight="balanced", max_iter=1000)),
        ]
    )
    model.fit(_frame(visits), np.array([v.no_show for v in visits], dtype=int))
    return model


def held_out_auc(visits: list[VisitFeatures]) -> float | None:
    """Train on the older 80 %, score the newest 20 % (time order, as the model is used)."""
    from sklearn.metrics import roc_auc_score

    cut = int(len(visits) * 0.8)
    older, newer = visits[:cut], visits[cut:]
    labels = [v.no_show for v in newer]
    if len({v.no_show for v in older}) < 2 or len(set(labels)) < 2:
        return None
    scores = train(older).predict_proba(_frame(newer))[:, 1]
    return float(roc_auc_score(np.array(labels, dtype=int), scores))


def _reason(feature: str, visit: VisitFeatures) -> str:
    row = visit.row()
    if feature == "lead_days":
        return f"booked {row['lead_days']:.0f} days ahead"
    if feature == "prior_no_shows":
        n = row["prior_no_shows"]
        return f"{n} earlier no-show{'s' if n != 1 else ''}" if n else "no earlier no-shows"
    if feature == "prior_visits":
        return f"{row['prior_visits']} earlier visits"
    if feature == "reminders":
        n = row["reminders"]
        return f"{n} reminder{'s' if n != 1 else ''} sent" if n else "no reminder sent yet"
    if feature == "hour":
        return f"at {row['hour']}:00"
    if feature.startswith("visit_type_"):
        return visit_type_label(feature.removeprefix("visit_type_"))
    if feature.startswith("weekday_"):
        return f"on a {feature.removeprefix('weekday_')}"
    return feature


def explain(model: "Pipeline", visit: VisitFeatures, top: int = 2) -> list[str]:
    """The features that push this visit's risk up the most (coefficient x its scaled value)."""
    prepare = model.named_steps["prepare"]
    x = prepare.transform(_frame([visit]))
    x = x.toarray()[0] if hasattr(x, "toarray") else np.asarray(x)[0]
    contributions = model.named_steps["model"].coef_[0] * x
    names = [n.split("__", 1)[1] for n in prepare.get_feature_names_out()]
    ranked = sorted(zip(contributions, names, strict=True), reverse=True)
    return [_reason(name, visit) for value, name in ranked[:top] if value > 0]


def _reminder_rates(visits: list[VisitFeatures]) -> tuple[float | None, float | None]:
    def rate(group: list[VisitFeatures]) -> float | None:
        return sum(bool(v.no_show) for v in group) / len(group) if group else None

    return rate([v for v in visits if v.reminders]), rate([v for v in visits if not v.reminders])


@dataclass(frozen=True)
class TrainedModel:
    """The model and what is known of the history it learned from: the same for every user, so
    the UI may cache it (once a day) and pass it to ``no_show_insight``."""

    trained_on: int
    no_shows: int
    rate_with_reminder: float | None
    rate_without_reminder: float | None
    model: "Pipeline | None"  # None when the history is too thin (``message`` says why)
    auc: float | None
    message: str = ""


def history_version(*, session: Session, until: datetime) -> tuple[int, int, int]:
    """What a cached model must match: visits with an outcome before ``until`` (and the newest),
    and the newest booking. A visit marked a no-show, or a new database, gives a new version."""
    count, newest = session.exec(
        select(func.count(col(Booking.id)), func.max(col(Booking.id))).where(
            col(Booking.status).in_(_OUTCOMES), col(Booking.start) < until
        )
    ).one()
    latest = session.exec(select(func.max(col(Booking.id)))).one()
    return int(count or 0), int(newest or 0), int(latest or 0)


def train_on_history(*, session: Session, until: datetime) -> TrainedModel:
    """Train on the HISTORY_DAYS of visits before ``until`` and measure it on the newest fifth.
    No user and no audit: it reads no one's record for anyone (counts and a model only)."""
    history = _features(
        session, since=until - timedelta(days=HISTORY_DAYS), until=until, upcoming=False
    )
    with_reminder, without_reminder = _reminder_rates(history)
    no_shows = sum(bool(v.no_show) for v in history)
    counted = partial(
        TrainedModel,
        trained_on=len(history),
        no_shows=no_shows,
        rate_with_reminder=with_reminder,
        rate_without_reminder=without_reminder,
    )
    if len(history) < MIN_VISITS or no_shows < MIN_NO_SHOWS or no_shows == len(history):
        return counted(
            model=None,
            auc=None,
            message=f"Not enough visit history yet: the model needs at least {MIN_VISITS} past "
            f"visits with {MIN_NO_SHOWS} or more no-shows.",
        )
    return counted(model=train(history), auc=held_out_auc(history))


def no_show_insight(
    user: User,
    *,
    session: Session,
    now: datetime,
    trained_model: "Callable[[], TrainedModel] | None" = None,
) -> NoShowInsight:
    """Score the next UPCOMING_DAYS of booked visits with the model ``trained_model()`` gives (the
    UI passes the day's cached one), called only once the user may see it; without it, a model is
    trained on the history up to ``now``."""
    require_permission(user, Action.VIEW_DASHBOARD, session=session, now=now)
    trained = trained_model() if trained_model else train_on_history(session=session, until=now)
    base: dict[str, Any] = {
        "trained_on": trained.trained_on,
        "no_shows": trained.no_shows,
        "rate_with_reminder": trained.rate_with_reminder,
        "rate_without_reminder": trained.rate_without_reminder,
    }
    model = trained.model
    if model is None:
        return NoShowInsight(**base, auc=None, upcoming=[], message=trained.message)
    upcoming = _features(
        session, since=now, until=now + timedelta(days=UPCOMING_DAYS), upcoming=True
    )
    ids = {v.patient_id for v in upcoming}
    names = {
        pid: f"{given} {family}".strip()
        for pid, given, family in session.exec(
            select(Patient.id, Patient.given_name, Patient.family_name).where(
                col(Patient.id).in_(ids)
            )
        ).all()
    }
    risks = model.predict_proba(_frame(upcoming))[:, 1] if upcoming else []
    rows = [
        RiskRow(
            booking_id=v.booking_id,
            patient_name=names.get(v.patient_id, ""),
            start=v.start,
            visit_type=visit_type_label(v.visit_type),
            risk=float(risk),
            high=float(risk) >= HIGH_RISK,
            reasons=explain(model, v),
        )
        for v, risk in zip(upcoming, risks, strict=True)
    ]
    rows.sort(key=lambda r: -r.risk)
    if rows:
        # The list names patients: staff reading it is logged like any other patient list.
        audited_reads.log_read(
            user,
            None,
            session=session,
            category=VIEWED_RISK,
            detail=f"{len(rows)} upcoming visits",
            now=now,
        )
    return NoShowInsight(**base, auc=trained.auc, upcoming=rows)


# --- acting on the risk ---------------------------------------------------------------------

# A ReminderSent row with this offset is the extra reminder of a high-risk visit. Regular offsets
# are positive hours, so it never collides with them, and the unique (booking, offset) key sends
# it once however many replicas run the job.
EXTRA_REMINDER_OFFSET = -1
EXTRA_REMINDER_HOURS = 72


def send_extra_reminders(*, session: Session, now: datetime) -> int:
    """Remind high-risk visits of the next EXTRA_REMINDER_HOURS once more; returns how many."""
    history = _features(
        session, since=now - timedelta(days=HISTORY_DAYS), until=now, upcoming=False
    )
    no_shows = sum(bool(v.no_show) for v in history)
    if len(history) < MIN_VISITS or no_shows < MIN_NO_SHOWS or no_shows == len(history):
        return 0
    upcoming = _features(
        session, since=now, until=now + timedelta(hours=EXTRA_REMINDER_HOURS), upcoming=True
    )
    if not upcoming:
        return 0
    model = train(history)
    risks = model.predict_proba(_frame(upcoming))[:, 1]
    done = set(
        session.exec(
            select(ReminderSent.booking_id).where(
                col(ReminderSent.booking_id).in_([v.booking_id for v in upcoming]),
                ReminderSent.offset_hours == EXTRA_REMINDER_OFFSET,
            )
        ).all()
    )
    sent = 0
    for visit, risk in zip(upcoming, risks, strict=True):
        if risk < HIGH_RISK or visit.booking_id in done:
            continue
        try:
            session.add(
                ReminderSent(
                    booking_id=visit.booking_id, offset_hours=EXTRA_REMINDER_OFFSET, sent_at=now
                )
            )
            session.flush()
        except IntegrityError:  # another replica sent it first
            session.rollback()
            continue
        notifications.notify(
            session=session,
            patient_id=visit.patient_id,
            kind="visit_reminder",
            text=f"Reminder: your {visit_type_label(visit.visit_type)} is on "
            f"{notices.when(visit.start)}. If you cannot come, please cancel or reschedule so "
            "someone else can have the time.",
            now=now,
            link_page="appointments",
        )
        session.commit()
        sent += 1
    return sent


def high_risk_bookings(booking_ids: list[int], *, session: Session) -> set[int]:
    """The bookings among these that were flagged high-risk (and got the extra reminder)."""
    if not booking_ids:
        return set()
    return set(
        session.exec(
            select(ReminderSent.booking_id).where(
                col(ReminderSent.booking_id).in_(booking_ids),
                ReminderSent.offset_hours == EXTRA_REMINDER_OFFSET,
            )
        ).all()
    )
