"""scheduling: templates, exceptions, bookings, waitlist, check-in, reminders, visit requests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 14:01:54.715073
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('scheduletemplate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('slot_minutes', sa.Integer(), nullable=False),
    sa.Column('visit_types', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('in_person', sa.Boolean(), nullable=False),
    sa.Column('video', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduletemplate', schema=None) as batch_op:
        batch_op.create_index('ix_scheduletemplate_practitioner_weekday', ['practitioner_id', 'weekday'], unique=False)

    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('visit_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('video_room', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('appointment_id', sa.Integer(), nullable=True),
    sa.Column('booked_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('cancel_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('arrived_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('rescheduled_from_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], ),
    sa.ForeignKeyConstraint(['booked_by_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], ),
    sa.ForeignKeyConstraint(['rescheduled_from_id'], ['booking.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_patient_start', ['patient_id', 'start'], unique=False)
        batch_op.create_index('ix_booking_status_start', ['status', 'start'], unique=False)
        batch_op.create_index('uq_booking_active_slot', ['practitioner_id', 'start'], unique=True, sqlite_where=sa.text("status <> 'cancelled'"), postgresql_where=sa.text("status <> 'cancelled'"))

    op.create_table('scheduleexception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by_user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_user_id'], ['portal_user.id'], ),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('scheduleexception', schema=None) as batch_op:
        batch_op.create_index('ix_scheduleexception_practitioner_start', ['practitioner_id', 'start'], unique=False)

    op.create_table('visitrequest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('visit_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('preferred_times', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_by_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], ),
    sa.ForeignKeyConstraint(['requested_by_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('visitrequest', schema=None) as batch_op:
        batch_op.create_index('ix_visitrequest_patient_status', ['patient_id', 'status'], unique=False)

    op.create_table('checkin',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('contact_confirmed', sa.Boolean(), nullable=False),
    sa.Column('medications_confirmed', sa.Boolean(), nullable=False),
    sa.Column('allergies_confirmed', sa.Boolean(), nullable=False),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('submitted_by_user_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['submitted_by_user_id'], ['portal_user.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id')
    )
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_checkin_patient_id'), ['patient_id'], unique=False)

    op.create_table('remindersent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('offset_hours', sa.Integer(), nullable=False),
    sa.Column('sent_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('emailed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_id', 'offset_hours', name='uq_remindersent_booking_offset')
    )
    op.create_table('waitlistentry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=True),
    sa.Column('visit_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('before', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], ),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waitlistentry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlistentry_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_waitlistentry_status_created', ['status', 'created_at'], unique=False)

    op.create_table('checkinanswer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('checkin_id', sa.Integer(), nullable=False),
    sa.Column('question_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('question_text', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('answer_text', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('answer_value', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['checkin_id'], ['checkin.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('checkin_id', 'question_code', name='uq_checkinanswer_q')
    )
    op.create_table('waitlistoffer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('practitioner_id', sa.Integer(), nullable=False),
    sa.Column('start', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('end', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('visit_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('offered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['waitlistentry.id'], ),
    sa.ForeignKeyConstraint(['practitioner_id'], ['practitioner.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('waitlistoffer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_waitlistoffer_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index('ix_waitlistoffer_status_expires', ['status', 'expires_at'], unique=False)
        batch_op.create_index('uq_waitlistoffer_open_slot', ['practitioner_id', 'start'], unique=True, sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
def downgrade() -> None:
    with op.batch_alter_table('waitlistoffer', schema=None) as batch_op:
        batch_op.drop_index('uq_waitlistoffer_open_slot', sqlite_where=sa.text("status = 'open'"), postgresql_where=sa.text("status = 'open'"))
        batch_op.drop_index('ix_waitlistoffer_status_expires')
        batch_op.drop_index(batch_op.f('ix_waitlistoffer_entry_id'))

    op.drop_table('waitlistoffer')
    op.drop_table('checkinanswer')
    with op.batch_alter_table('waitlistentry', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlistentry_status_created')
        batch_op.drop_index(batch_op.f('ix_waitlistentry_patient_id'))

    op.drop_table('waitlistentry')
    op.drop_table('remindersent')
    with op.batch_alter_table('checkin', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_checkin_patient_id'))

    op.drop_table('checkin')
    with op.batch_alter_table('visitrequest', schema=None) as batch_op:
        batch_op.drop_index('ix_visitrequest_patient_status')

    op.drop_table('visitrequest')
    with op.batch_alter_table('scheduleexception', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduleexception_practitioner_start')

    op.drop_table('scheduleexception')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('uq_booking_active_slot', sqlite_where=sa.text("status <> 'cancelled'"), postgresql_where=sa.text("status <> 'cancelled'"))
        batch_op.drop_index('ix_booking_status_start')
        batch_op.drop_index('ix_booking_patient_start')

    op.drop_table('booking')
    with op.batch_alter_table('scheduletemplate', schema=None) as batch_op:
        batch_op.drop_index('ix_scheduletemplate_practitioner_weekday')

    op.drop_table('scheduletemplate')