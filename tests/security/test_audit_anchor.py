"""The audit trail anchored outside the database (issue 15, finding 6).

Each attack is played as someone with the database owner's rights but no access to the portal's
state folder (where the audit key and the checkpoint file live): first the append-only triggers
are dropped, then the trail is changed. Each must fail ``python -m portal.audit_verify``.
"""

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from db import audit_guard
from db.models import AuditChainHead, AuditEvent, Role
from portal import audit_verify, cli
from portal.config import get_settings
from portal.services import audit, audit_chain, audit_checkpoints
from tests.factories import create_user


def _write(session, user, n, now, start=0):
    for i in range(start, start + n):
        audit.record(
            session=session, actor=user, category="viewed test results", action="read",
            detail=f"entry {i}", now=now + timedelta(seconds=i),
        )  # fmt: skip
    session.commit()


def _ids(session) -> list[int]:
    return list(session.exec(select(AuditEvent.id).order_by(AuditEvent.id)).all())


def _drop_guard(session):
    audit_guard.remove(session.connection())
    session.commit()


def _set_head(session, event_id, event_hash):
    session.execute(
        text("UPDATE auditchainhead SET last_event_id = :i, last_hash = :h WHERE id = 1"),
        {"i": event_id, "h": event_hash},
    )


def _rehash_from(session, start_id: int, key: bytes | None):
    """Recompute every hash from ``start_id`` on, as an attacker would after an edit."""
    rows = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    prev = None
    for event in rows:
        if event.id >= start_id:
            new_hash = audit_chain.entry_hash(prev, event.model_dump(), key)
            session.execute(
                text("UPDATE auditevent SET prev_hash = :p, hash = :h WHERE id = :i"),
                {"p": prev, "h": new_hash, "i": event.id},
            )
            prev = new_hash
        else:
            prev = event.hash
    _set_head(session, rows[-1].id, prev)
    session.commit()


@pytest.fixture
def trail(session, now, capsys):
    """Ten entries, a checkpoint (written by a clean verification), two newer entries."""
    nurse = create_user(session, Role.NURSE)
    _write(session, nurse, 10, now)
    assert audit_verify.main([]) == 0
    _write(session, nurse, 2, now, start=10)
    capsys.readouterr()
    return nurse


def _broken(capsys) -> str:
    assert audit_verify.main([]) == 1
    return capsys.readouterr().err


def test_an_intact_trail_verifies_and_gets_a_new_signed_checkpoint(session, now, trail, capsys):
    assert audit_verify.main([]) == 0
    assert "12 entries verified against 1 signed checkpoint(s)" in capsys.readouterr().out
    path = audit_checkpoints.checkpoint_path()
    checkpoints, problems = audit_checkpoints.read_checkpoints(path, audit_chain.audit_key())
    assert problems == [] and [c.count for c in checkpoints] == [10, 12]
    assert checkpoints[-1].head == session.get(AuditChainHead, 1).last_hash


def test_deleting_the_newest_entries_and_moving_the_head_back_is_detected(
    session, now, trail, capsys
):
    ids = _ids(session)
    keep = ids[4]
    _drop_guard(session)
    session.execute(text("DELETE FROM auditevent WHERE id > :k"), {"k": keep})
    _set_head(session, keep, session.get(AuditEvent, keep).hash)
    session.commit()
    assert audit_chain.verify(session).ok  # the chain alone cannot tell
    err = _broken(capsys)
    assert f"entry {ids[9]}, the newest of 10 at the checkpoint" in err
    assert "append-only guard on the audit trail is missing" in err


def test_editing_an_entry_and_rehashing_the_rest_without_the_key_is_detected(
    session, now, trail, capsys
):
    ids = _ids(session)
    _drop_guard(session)
    session.execute(
        text("UPDATE auditevent SET detail = 'nothing to see' WHERE id = :i"), {"i": ids[3]}
    )
    _rehash_from(session, ids[3], key=None)  # the old, unkeyed chain formula
    err = _broken(capsys)
    assert f"entry {ids[3]}: content changed since written" in err


def test_rehashing_with_a_stolen_key_is_still_caught_by_the_checkpoints(
    session, now, trail, capsys
):
    ids = _ids(session)
    _drop_guard(session)
    session.execute(
        text("UPDATE auditevent SET detail = 'nothing to see' WHERE id = :i"), {"i": ids[3]}
    )
    _rehash_from(session, ids[3], key=audit_chain.audit_key())
    assert audit_chain.verify(session).ok
    assert f"entry {ids[9]} is not the one checkpointed" in _broken(capsys)


def test_wiping_the_whole_trail_is_detected(session, now, trail, capsys):
    _drop_guard(session)
    session.execute(text("DELETE FROM auditevent"))
    session.execute(text("DELETE FROM auditchainhead"))
    session.commit()
    assert audit_chain.verify(session).ok  # an empty chain is a valid chain
    assert "is gone: entries were removed" in _broken(capsys)


def test_wiping_and_writing_new_entries_over_the_old_ids_is_detected(session, now, trail, capsys):
    _drop_guard(session)
    session.execute(text("DELETE FROM auditevent"))
    session.execute(text("DELETE FROM auditchainhead"))
    session.commit()
    audit_guard.install(session.connection())
    session.commit()
    _write(session, trail, 12, now, start=100)
    assert "checkpoint" in _broken(capsys)


def test_an_edited_checkpoint_file_is_detected(session, now, trail, capsys):
    path = audit_checkpoints.checkpoint_path()
    path.write_text(path.read_text().replace('"count": 10', '"count": 3'))
    assert "wrong signature (edited)" in _broken(capsys)


def test_moving_the_start_of_the_keyed_chain_is_detected(session, now, trail, capsys):
    last = _ids(session)[-1]
    _drop_guard(session)
    session.execute(text("UPDATE auditchainhead SET plain_until_id = :i"), {"i": last})
    session.commit()
    _rehash_from(session, 0, key=None)  # everything as "legacy" plain SHA-256
    err = _broken(capsys)
    assert "keyed chain starts was moved" in err


def test_a_chain_from_before_the_key_stays_verifiable_and_protected(session, now, capsys):
    """Migration 0013: entries hashed with plain SHA-256 before it keep verifying; the first
    keyed entry's HMAC covers them."""
    nurse = create_user(session, Role.NURSE)
    _write(session, nurse, 4, now)
    ids = _ids(session)
    _drop_guard(session)
    _rehash_from(session, 0, key=None)  # as written by the portal before the chain was keyed
    session.execute(text("UPDATE auditchainhead SET plain_until_id = :i"), {"i": ids[-1]})
    session.commit()
    audit_guard.install(session.connection())
    session.commit()
    _write(session, nurse, 3, now, start=4)
    assert audit_verify.main([]) == 0
    capsys.readouterr()
    # Rewriting a plain entry and re-hashing the plain part breaks the first keyed link.
    _drop_guard(session)
    session.execute(text("UPDATE auditevent SET detail = 'x' WHERE id = :i"), {"i": ids[1]})
    rows = session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()
    prev = None
    for event in rows[:4]:
        prev = audit_chain.entry_hash(prev, event.model_dump())
        session.execute(
            text("UPDATE auditevent SET hash = :h WHERE id = :i"), {"h": prev, "i": event.id}
        )
    session.commit()
    assert "does not link to the entry before" in _broken(capsys)


def test_the_migration_records_where_the_keyed_chain_starts(session, now):
    head = session.get(AuditChainHead, 1)
    assert head is None or head.plain_until_id == 0  # an empty trail is keyed from the start


def test_start_up_refuses_to_run_without_the_guard_and_says_why(session, now):
    _drop_guard(session)
    with pytest.raises(cli.CliError, match="REFUSING TO START") as refused:
        cli._check_audit_trail(session.get_bind(), get_settings())
    assert refused.value.exit_code == 3
    alarm = session.exec(select(AuditEvent).where(AuditEvent.action == "audit guard missing")).all()
    assert len(alarm) == 1


def test_start_up_with_the_guard_anchors_the_trail(session, now):
    _write(session, create_user(session, Role.NURSE), 3, now)
    cli._check_audit_trail(session.get_bind(), get_settings())
    [checkpoint] = audit_checkpoints.read_checkpoints(
        audit_checkpoints.checkpoint_path(), audit_chain.audit_key()
    )[0]
    assert checkpoint.count == 3


def test_the_scheduler_tick_anchors_the_trail_and_alarms_when_the_guard_is_gone(
    session, now, caplog
):
    from ehr_sync import jobs

    _write(session, create_user(session, Role.NURSE), 2, now)
    report = jobs.run_tick(settings=get_settings(), clock=lambda: now)
    assert report.audit_checkpoint.count == 2
    _drop_guard(session)
    report = jobs.run_tick(settings=get_settings(), clock=lambda: now)
    assert "append-only guard (database triggers) is missing" in caplog.text
    assert report.audit_checkpoint.count == 3  # the alarm itself is in the trail


def test_the_guard_check_sees_the_triggers(session):
    assert audit_guard.installed(session.connection())
    audit_guard.remove(session.connection())
    assert not audit_guard.installed(session.connection())
    session.rollback()


def test_each_database_gets_its_own_default_checkpoint_file(monkeypatch, tmp_path):
    monkeypatch.delenv("AUDIT_CHECKPOINT_PATH", raising=False)
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    paths = set()
    for url in ("sqlite:///a.db", "sqlite:///b.db"):
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        paths.add(audit_checkpoints.checkpoint_path())
    get_settings.cache_clear()
    assert len(paths) == 2 and all(p.parent == tmp_path / "audit" for p in paths)


def test_checkpoints_also_go_to_syslog_when_asked(session, now, monkeypatch):
    import syslog

    sent = []
    monkeypatch.setattr(syslog, "syslog", lambda priority, message: sent.append(message))
    monkeypatch.setenv("AUDIT_CHECKPOINT_SYSLOG", "true")
    get_settings.cache_clear()
    _write(session, create_user(session, Role.NURSE), 2, now)
    audit_checkpoints.write_checkpoint(session, now=now)
    assert len(sent) == 1 and '"count": 2' in sent[0] and '"sig": ' in sent[0]
