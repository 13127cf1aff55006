"""security: sessions, lockout, MFA, account codes, audit hash chain

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 14:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sessions_valid_after', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_login_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('mfa_secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('mfa_enabled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.alter_column('failed_login_count', server_default=None)

    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))

    op.create_table('auditchainhead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_event_id', sa.Integer(), nullable=True),
    sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('authsession',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('ended_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('authsession', schema=None) as batch_op:
        batch_op.create_index('ix_authsession_user_started', ['user_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_authsession_token_hash'), ['token_hash'], unique=True)

    op.create_table('mfarecoverycode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('mfarecoverycode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mfarecoverycode_user_id'), ['user_id'], unique=False)

    op.create_table('accountcode',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('purpose', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('issued_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('used_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['issued_by_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('accountcode', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accountcode_code_hash'), ['code_hash'], unique=True)
        batch_op.create_index(batch_op.f('ix_accountcode_patient_id'), ['patient_id'], unique=False)

    _chain_existing_audit_events()


def _chain_existing_audit_events() -> None:
    """Hash the entries written before the chain existed, in id order, and seed the head row."""
    from portal.services.audit_chain import entry_hash

    bind = op.get_bind()
    # Typed columns, so timestamps come back as aware datetimes on SQLite as on PostgreSQL.
    events = sa.table(
        'auditevent',
        sa.column('id', sa.Integer()),
        sa.column('at', sqlmodel.sql.sqltypes.UTCDateTime()),
        *(sa.column(name, sa.Integer()) for name in ('user_id', 'patient_id')),
        *(sa.column(name, sa.String()) for name in (
            'username', 'role', 'category', 'action', 'outcome', 'detail', 'prev_hash', 'hash')),
    )
    prev = None
    last_id = None
    for row in bind.execute(sa.select(events).order_by(events.c.id)).mappings().all():
        digest = entry_hash(prev, dict(row))
        bind.execute(
            events.update().where(events.c.id == row['id']).values(prev_hash=prev, hash=digest)
        )
        prev, last_id = digest, row['id']
    bind.execute(
        sa.text('INSERT INTO auditchainhead (id, last_event_id, last_hash) VALUES (1, :i, :h)'),
        {'i': last_id, 'h': prev},
    )


def downgrade() -> None:
    with op.batch_alter_table('accountcode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accountcode_patient_id'))
        batch_op.drop_index(batch_op.f('ix_accountcode_code_hash'))
    op.drop_table('accountcode')
    with op.batch_alter_table('mfarecoverycode', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mfarecoverycode_user_id'))
    op.drop_table('mfarecoverycode')
    with op.batch_alter_table('authsession', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_authsession_token_hash'))
        batch_op.drop_index('ix_authsession_user_started')
    op.drop_table('authsession')
    op.drop_table('auditchainhead')
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.drop_column('mfa_enabled_at')
        batch_op.drop_column('mfa_secret')
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_login_count')
        batch_op.drop_column('sessions_valid_after')
