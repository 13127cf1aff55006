"""TOTP replay protection: remember the time step of the last accepted code.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 15:55:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mfa_last_step', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('portal_user', schema=None) as batch_op:
        batch_op.drop_column('mfa_last_step')
