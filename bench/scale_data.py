"""Load a clinic of N synthetic patients into a fresh SQLite or PostgreSQL database, fast.

    python -m bench.scale_data --patients 10000                       # var/bench/clinic-10000.db
    python -m bench.scale_data --patients 10000 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench_10000

How: the demo generator's FHIR record for the first ``--templates`` patients (default 200, about
52,000 resources) goes in through the EHR importer, exactly as ``portal.cli seed`` does (R4B
validation, mappers, bulk upserts). Validating every one of 2.6 million resources would take
about ten minutes per database on one core (R4B validation runs at ~4,000 resources/s here, see
docs/PERFORMANCE.md), so the other patients are fanned out from those templates inside the
database: new Patient rows (names, MRNs and birth dates varied), then one INSERT ... SELECT per
table per group of copies for their records. ``--templates N`` sends everything through the
importer instead. Portal activity (message threads, messages, refill and profile-change
requests, triage items, notifications, patient accounts) is generated per patient in Python and
bulk-inserted. The database is created (or emptied) first; the test and demo databases are
refused.
"""

import argparse
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Column, Integer, MetaData, String, Table, cast, func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from bench.common import (
    analyze,
    backend,
    default_sqlite_url,
    fresh_database,
    machine_note,
    timed,
)
from db.models import (
    Message,
    MessageThread,
    Notification,
    Patient,
    ProfileChangeRequest,
    RefillRequest,
    TriageEvent,
    TriageItem,
    User,
)
from ehr_sync.mappers import MAPPINGS
from portal.demo.generator import patient_fhir_id
from portal.demo.seed import DEMO_SOURCE, PATIENT_USERNAME, seed_demo_clinic

BENCH_PASSWORD = "bench-password-not-secret"  # noqa: S105 - synthetic accounts, documented
DEFAULT_SEED = 7
COPIES_PER_STATEMENT = 10
SUBJECTS = (
    "Question about my medication",
    "Lab results",
    "Side effects",
    "Need a sick note",
    "Billing question",
    "Referral",
    "Follow-up after my visit",
    "Blood pressure readings",
)
BODIES = (
    "Hello, I have a question about what we discussed at my last visit.",
    "Thank you for your message. The doctor has reviewed it and replied below.",
    "Could you please check whether this is still the right dose for me?",
    "Your results are in and look stable. Please keep taking your medicines as before.",
)
NOTIFICATION_TEXTS = (
    ("result", "New test results are ready.", "pages/results.py"),
    ("message", "You have a new message from the clinic.", "pages/messages.py"),
    ("refill", "Your refill request was approved.", "pages/medications.py"),
)


@dataclass
class LoadReport:
    patients: int
    timings: dict[str, float]
    rows: dict[str, int]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_data", description=__doc__)
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--templates", type=int, default=200, help="patients via the importer")
    parser.add_argument("--database-url", default=None, help="default: var/bench/clinic-N.db")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    url = args.database_url or default_sqlite_url(f"clinic-{args.patients}")
    print(f"Loading {args.patients:,} patients into {backend(url)} ({machine_note()})")
    report = load_clinic(url, patients=args.patients, templates=args.templates, seed=args.seed)
    total = sum(report.timings.values())
    print(
        f"Done in {total:.1f} s. Rows: " + ", ".join(f"{k} {v:,}" for k, v in report.rows.items())
    )


def load_clinic(
    url: str, *, patients: int, templates: int = 200, seed: int = DEFAULT_SEED
) -> LoadReport:
    """Create ``url`` afresh and load the clinic; returns phase timings and row counts."""
    templates = max(3, min(templates, patients))
    now = datetime.now(UTC)
    timings: dict[str, float] = {}
    with timed("create and migrate", timings):
        engine = fresh_database(url)
    with timed(f"{templates:,} patients through the importer", timings), Session(engine) as s:
        seeded = seed_demo_clinic(
            session=s, n_patients=templates, seed=seed, now=now, password=BENCH_PASSWORD
        )
    print(f"    ({seeded.report.total:,} FHIR resources, {seeded.report.quarantined} quarantined)")
    if patients > templates:
        with timed(f"{patients - templates:,} patients fanned out in SQL", timings):
            fan_out(engine, patients=patients, templates=templates)
    with timed("portal activity (messages, requests, triage, accounts)", timings):
        add_activity(engine, now=now, seed=seed)
    with timed("ANALYZE", timings):
        analyze(engine)
    rows = count_rows(engine)
    engine.dispose()
    return LoadReport(patients, timings, rows)


# --- fan-out ------------------------------------------------------------------------------


def fan_out(engine: Engine, *, patients: int, templates: int) -> None:
    """Patients templates+1..N as copies of the template patients' records, made in SQL."""
    patient = Patient.__table__
    with engine.begin() as conn:
        rows = conn.execute(
            select(patient).where(patient.c.source == DEMO_SOURCE).order_by(patient.c.fhir_id)
        ).mappings()
        template_rows = [dict(r) for r in rows][:templates]
        clones, origin = [], {}
        for number in range(templates + 1, patients + 1):
            copy, index = divmod(number - 1, templates)
            base = template_rows[index]
            family = template_rows[(index * 7 + copy) % templates]
            clone = {k: v for k, v in base.items() if k != "id"}
            clone.update(
                fhir_id=patient_fhir_id(number),
                mrn=f"R{number:06d}",
                family_name=family["family_name"],
                family_name_lower=family["family_name_lower"],
                email=f"{base['given_name_lower']}.{family['family_name_lower']}.{number}"
                "@example.com".replace(" ", ""),
                birth_date=(
                    base["birth_date"] + timedelta(days=copy % 300) if base["birth_date"] else None
                ),
            )
            clones.append(clone)
            origin[clone["fhir_id"]] = (copy, base["id"])
        for start in range(0, len(clones), 5000):
            conn.execute(insert(patient), clones[start : start + 5000])
        new_ids = conn.execute(
            select(patient.c.fhir_id, patient.c.id).where(
                patient.c.source == DEMO_SOURCE, patient.c.fhir_id.in_(list(origin))
            )
        ).all()
        mapping = Table(
            "bench_patient_map",
            MetaData(),
            Column("copy", Integer, nullable=False),
            Column("old_id", Integer, nullable=False),
            Column("new_id", Integer, nullable=False),
        )
        mapping.create(conn)
        conn.execute(
            insert(mapping),
            [
                {"copy": origin[fid][0], "old_id": origin[fid][1], "new_id": new_id}
                for fid, new_id in new_ids
            ],
        )
    copies = (patients - 1) // templates
    try:
        for model in (m.model for name, m in MAPPINGS.items() if name not in _PEOPLE):
            for first in range(1, copies + 1, COPIES_PER_STATEMENT):
                last = min(copies, first + COPIES_PER_STATEMENT - 1)
                with engine.begin() as conn:
                    conn.execute(_copy_statement(model.__table__, mapping, first, last))
    finally:
        with engine.begin() as conn:
            mapping.drop(conn)


# Not copied per patient: people and places are shared by the whole clinic.
_PEOPLE = ("Practitioner", "Patient", "Organization", "Location")


def _copy_statement(table: Table, mapping: Table, first: int, last: int):
    suffix = "-c" + cast(mapping.c.copy, String)
    columns, values = [], []
    for column in table.columns:
        if column.primary_key:
            continue
        columns.append(column.name)
        if column.name in ("fhir_id", "report_fhir_id"):
            values.append(column + suffix)
        elif column.name == "patient_id":
            values.append(mapping.c.new_id)
        else:
            values.append(column)
    source = (
        select(*values)
        .select_from(table.join(mapping, mapping.c.old_id == table.c.patient_id))
        .where(mapping.c.copy.between(first, last))
    )
    return insert(table).from_select(columns, source)


# --- portal activity ----------------------------------------------------------------------


def add_activity(engine: Engine, *, now: datetime, seed: int) -> None:
    """Messages, requests, triage items, notifications and accounts for every patient."""
    with engine.begin() as conn:
        patient = Patient.__table__
        people = conn.execute(
            select(patient.c.id, patient.c.fhir_id, patient.c.given_name, patient.c.family_name)
            .where(patient.c.source == DEMO_SOURCE)
            .order_by(patient.c.id)
        ).all()
        med = MAPPINGS["MedicationRequest"].model.__table__
        meds = dict(
            conn.execute(
                select(med.c.patient_id, func.min(med.c.id)).group_by(med.c.patient_id)
            ).all()
        )
        user = User.__table__
        password_hash = conn.execute(
            select(user.c.password_hash).where(user.c.username == PATIENT_USERNAME)
        ).scalar_one()
        linked = set(
            conn.execute(select(user.c.patient_id).where(user.c.patient_id.is_not(None))).scalars()
        )
        staff_ids = list(conn.execute(select(user.c.id).where(user.c.role != "patient")).scalars())
        new = _Rows({model: _max_id(conn, model) + 1 for model in _ACTIVITY_TABLES})
        for patient_id, fhir_id, given, family in people:
            number = int(fhir_id.rsplit("-", 1)[1])
            rng = random.Random(f"bench:{seed}:activity:{number}")
            account = None
            if patient_id not in linked and rng.random() < 0.6:
                account = new.add(
                    User,
                    username=f"bench-{fhir_id}",
                    password_hash=password_hash,
                    role="patient",
                    display_name=f"{given} {family}",
                    email=f"bench-{fhir_id}@example.com",
                    patient_id=patient_id,
                    active=True,
                    created_at=now - timedelta(days=rng.randint(30, 900)),
                    failed_login_count=0,
                )
            _threads(new, rng, now, patient_id, account, staff_ids, showcase=number == 1)
            if patient_id in meds and rng.random() < 0.3:
                _refill(new, rng, now, patient_id, meds[patient_id], account, staff_ids)
            if rng.random() < 0.05:
                _profile_change(new, rng, now, patient_id, account, staff_ids)
            for _ in range(rng.randint(0, 6)):
                kind, words, page = rng.choice(NOTIFICATION_TEXTS)
                created = now - timedelta(hours=rng.randint(1, 24 * 400))
                read = None if rng.random() < 0.2 else created + timedelta(hours=rng.randint(1, 72))
                new.add(
                    Notification,
                    patient_id=patient_id,
                    kind=kind,
                    text=words,
                    link_page=page,
                    created_at=created,
                    read_at=read,
                )
        for model in _ACTIVITY_TABLES:  # in foreign-key order
            table = model.__table__
            # executemany wants the same keys in every row: give missing ones their NULL.
            keys = {key for row in new.rows[model] for key in row}
            batch = [{key: row.get(key) for key in keys} for row in new.rows[model]]
            for start in range(0, len(batch), 5000):
                conn.execute(insert(table), batch[start : start + 5000])
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for model in _ACTIVITY_TABLES:
                name = model.__table__.name
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                        f"(SELECT COALESCE(MAX(id), 1) FROM {name}))"
                    )
                )


_ACTIVITY_TABLES = (
    User,
    MessageThread,
    Message,
    RefillRequest,
    ProfileChangeRequest,
    TriageItem,
    TriageEvent,
    Notification,
)


class _Rows:
    """Rows to insert per table, with ids handed out here so requests can point at each other."""

    def __init__(self, next_id: dict[type, int]) -> None:
        self.next_id = next_id
        self.rows: dict[type, list[dict]] = {model: [] for model in next_id}

    def add(self, model: type, **values) -> int:
        values["id"] = self.next_id[model]
        self.next_id[model] += 1
        self.rows[model].append(values)
        return values["id"]


def _max_id(conn, model: type) -> int:
    return conn.execute(select(func.max(model.__table__.c.id))).scalar() or 0


def _triage(new, rng, now, *, kind, ref_id, patient_id, summary, created, staff_ids) -> None:
    age = now - created
    if age > timedelta(days=10):
        status, closed = "closed", created + timedelta(hours=rng.randint(2, 60))
    else:
        status = rng.choice(("new", "new", "in_progress", "waiting_on_patient"))
        closed = None
    assignee = None if status == "new" else rng.choice(staff_ids)
    item_id = new.add(
        TriageItem,
        kind=kind,
        ref_id=ref_id,
        patient_id=patient_id,
        status=status,
        priority=1 if rng.random() < 0.1 else 2,
        summary=summary[:200],
        assignee_user_id=assignee,
        created_at=created,
        due_at=created + timedelta(hours=rng.choice((4, 24, 48))),
        updated_at=closed or created,
        closed_at=closed,
        version=1 if status == "new" else 2,
    )
    # The history the dashboard's response times come from: created, claimed, closed.
    new.add(TriageEvent, item_id=item_id, at=created, action="created", to_status="new")
    if assignee is not None:
        claimed = created + timedelta(minutes=rng.randint(5, 60 * 30))
        if closed is not None:
            claimed = min(claimed, closed)
        new.add(
            TriageEvent,
            item_id=item_id,
            at=claimed,
            actor_user_id=assignee,
            action="claimed",
            from_status="new",
            to_status="in_progress",
        )
    if closed is not None:
        new.add(
            TriageEvent,
            item_id=item_id,
            at=closed,
            actor_user_id=assignee,
            action="status_changed",
            to_status="closed",
        )


def _threads(new, rng, now, patient_id, account, staff_ids, *, showcase: bool) -> None:
    count = rng.choice((0, 0, 1, 1, 2, 3, 4))
    for index in range(max(count, 2) if showcase else count):
        created = now - timedelta(hours=rng.randint(1, 24 * 700))
        if showcase and index == 0:
            # Even the smallest clinic has an open request in the inbox and a recent thread.
            created = now - timedelta(hours=3)
        subject = rng.choice(SUBJECTS)
        thread_id = new.add(
            MessageThread,
            patient_id=patient_id,
            recipient=rng.choice(("care_team", "care_team", "front_desk", "billing")),
            subject=subject,
            created_by_user_id=account,
            created_at=created,
            last_message_at=created,
        )
        when = created
        for turn in range(rng.randint(1, 6)):
            from_staff = turn % 2 == 1
            when = min(now, when + timedelta(hours=rng.randint(1, 48)))
            unread = turn > 0 and rng.random() < 0.1
            new.add(
                Message,
                thread_id=thread_id,
                author_user_id=rng.choice(staff_ids) if from_staff else account,
                from_staff=from_staff,
                body=rng.choice(BODIES),
                created_at=when,
                read_by_patient_at=None if from_staff and unread else when,
                read_by_staff_at=when if from_staff or not unread else None,
            )
        new.rows[MessageThread][-1]["last_message_at"] = when
        _triage(
            new,
            rng,
            now,
            kind="message",
            ref_id=thread_id,
            patient_id=patient_id,
            summary=subject,
            created=created,
            staff_ids=staff_ids,
        )


def _refill(new, rng, now, patient_id, med_id, account, staff_ids) -> None:
    created = now - timedelta(hours=rng.randint(1, 24 * 500))
    open_ = now - created < timedelta(days=10)
    status = "requested" if open_ else rng.choice(("approved", "approved", "denied"))
    refill_id = new.add(
        RefillRequest,
        patient_id=patient_id,
        medication_request_id=med_id,
        pharmacy="Elm Street Pharmacy",
        note="",
        status=status,
        requested_by_user_id=account,
        decided_by_user_id=None if open_ else rng.choice(staff_ids),
        created_at=created,
        decided_at=None if open_ else created + timedelta(hours=rng.randint(2, 48)),
    )
    _triage(
        new,
        rng,
        now,
        kind="refill",
        ref_id=refill_id,
        patient_id=patient_id,
        summary="Refill request",
        created=created,
        staff_ids=staff_ids,
    )


def _profile_change(new, rng, now, patient_id, account, staff_ids) -> None:
    created = now - timedelta(hours=rng.randint(1, 24 * 300))
    open_ = now - created < timedelta(days=10)
    change_id = new.add(
        ProfileChangeRequest,
        patient_id=patient_id,
        field="phone",
        old_value="555-0100",
        new_value=f"555-{rng.randint(1000, 9999)}",
        status="pending" if open_ else "accepted",
        requested_by_user_id=account,
        created_at=created,
        decided_at=None if open_ else created + timedelta(days=1),
    )
    _triage(
        new,
        rng,
        now,
        kind="profile_change",
        ref_id=change_id,
        patient_id=patient_id,
        summary="Phone change",
        created=created,
        staff_ids=staff_ids,
    )


def count_rows(engine: Engine) -> dict[str, int]:
    tables = [m.model for m in MAPPINGS.values()] + [m for m in _ACTIVITY_TABLES]
    counts = {}
    with engine.connect() as conn:
        for model in tables:
            counts[model.__table__.name] = conn.execute(
                select(func.count()).select_from(model.__table__)
            ).scalar_one()
    return counts


if __name__ == "__main__":
    main()
