"""Visit requests carry preferred weekdays, parts of the day and the booking made from them;
referral requests carry the staff decision (approved or declined, with its reason).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('visitrequest', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'preferred_days',
                sqlmodel.sql.sqltypes.AutoString(length=20),
                nullable=False,
                server_default='',
            )
        )
        batch_op.add_column(
            sa.Column(
                'preferred_parts',
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=False,
                server_default='',
            )
        )
        batch_op.add_column(sa.Column('booking_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_visitrequest_booking_id_booking', 'booking', ['booking_id'], ['id']
        )
    with op.batch_alter_table('visitrequest', schema=None) as batch_op:
        # The defaults only filled existing rows; the models give every new row its value.
        batch_op.alter_column('preferred_days', server_default=None)
        batch_op.alter_column('preferred_parts', server_default=None)
    with op.batch_alter_table('referralrequest', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'decision_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(sa.Column('decided_by_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            'fk_referralrequest_decided_by_user_id_portal_user',
            'portal_user',
            ['decided_by_user_id'],
            ['id'],
        )


def downgrade() -> None:
    with op.batch_alter_table('referralrequest', schema=None) as batch_op:
        batch_op.drop_constraint(
            'fk_referralrequest_decided_by_user_id_portal_user', type_='foreignkey'
        )
        batch_op.drop_column('decided_by_user_id')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('decision_reason')
    with op.batch_alter_table('visitrequest', schema=None) as batch_op:
        batch_op.drop_constraint('fk_visitrequest_booking_id_booking', type_='foreignkey')
        batch_op.drop_column('booking_id')
        batch_op.drop_column('preferred_parts')
        batch_op.drop_column('preferred_days')
