"""Audit trail append-only in the database: triggers refuse UPDATE and DELETE on auditevent.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 16:00:00
"""

from collections.abc import Sequence

from alembic import op

from db import audit_guard

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    audit_guard.install(op.get_bind())


def downgrade() -> None:
    audit_guard.remove(op.get_bind())
