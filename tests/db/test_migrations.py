"""The Alembic migrations and the SQLModel models must describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers every table)
from db.migrate import alembic_config


def test_migrations_have_a_single_head():
    heads = ScriptDirectory.from_config(alembic_config()).get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}; point one at the other"


def test_migrated_schema_matches_models(migrated_engine):
    with migrated_engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == [], f"models and migrations differ; add a migration: {diff}"


def test_an_existing_plain_audit_chain_stays_verifiable_after_the_key_migration(tmp_path):
    """Migration 0013: a trail written before the chain was keyed (plain SHA-256 links) keeps
    verifying after the upgrade, and new entries chain onto it with the key."""
    from datetime import UTC, datetime

    from alembic import command
    from sqlalchemy import text
    from sqlmodel import Session

    from db.engine import make_engine
    from db.models import AuditChainHead
    from portal.services import audit, audit_chain

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0012")
    at = datetime(2026, 11, 1, 9, tzinfo=UTC)
    prev = None
    with engine.begin() as connection:
        for n in range(3):
            fields = {"at": at, "category": "opened chart", "action": "read", "detail": str(n)}
            fields.update(outcome="success")
            digest = audit_chain.entry_hash(prev, fields)  # the pre-key formula
            connection.execute(
                text(
                    "INSERT INTO auditevent (at, category, action, outcome, detail, prev_hash, "
                    "hash) VALUES (:at, :category, :action, :outcome, :detail, :p, :h)"
                ),
                {**fields, "at": at.replace(tzinfo=None), "p": prev, "h": digest},
            )
            prev = digest
        connection.execute(
            text("UPDATE auditchainhead SET last_event_id = 3, last_hash = :h"), {"h": prev}
        )
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with Session(engine, expire_on_commit=False) as session:
        assert session.get(AuditChainHead, 1).plain_until_id == 3
        assert audit_chain.verify(session).ok
        audit.record(session=session, actor=None, category="c", action="read", now=at)
        session.commit()
        result = audit_chain.verify(session)
        assert result.ok and result.checked == 4
    engine.dispose()
