"""Audit chain keyed with an HMAC from here on: the head remembers the last plain entry.

Entries written before this revision (up to ``plain_until_id``) keep their plain SHA-256 links
and stay verifiable; every later entry is linked with HMAC-SHA256 under the audit key (kept with the
other secrets, never in the database). The first keyed entry's HMAC covers the last plain hash,
so the older entries are protected by it too.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 01:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('auditchainhead', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('plain_until_id', sa.Integer(), nullable=False, server_default='0')
        )
    op.execute(
        'UPDATE auditchainhead SET plain_until_id = (SELECT COALESCE(MAX(id), 0) FROM auditevent)'
    )


def downgrade() -> None:
    with op.batch_alter_table('auditchainhead', schema=None) as batch_op:
        batch_op.drop_column('plain_until_id')
