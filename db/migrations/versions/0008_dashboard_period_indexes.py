"""Indexes for the staff dashboard's period queries (triage items and events by time).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24 15:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('triageitem', schema=None) as batch_op:
        batch_op.create_index('ix_triageitem_created', ['created_at'], unique=False)
    with op.batch_alter_table('triageevent', schema=None) as batch_op:
        batch_op.create_index('ix_triageevent_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('triageevent', schema=None) as batch_op:
        batch_op.drop_index('ix_triageevent_at')
    with op.batch_alter_table('triageitem', schema=None) as batch_op:
        batch_op.drop_index('ix_triageitem_created')
