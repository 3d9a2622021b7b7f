"""indicators: anonymous cohort facts, the day a step was first seen started, confirmation
time and canceller kept on the appointment, and the indexes the indicators read by

Revision ID: 1d1ca7025a70
Revises: 6df62dabd828
Create Date: 2026-12-01 22:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "1d1ca7025a70"
down_revision = "6df62dabd828"
branch_labels = None
depends_on = None


REMINDER_DELIVERED = "kind IN ('reminder_48h', 'reminder_day') AND status = 'delivered'"


def upgrade():
    op.create_table(
        "cohort_fact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("registration_month", sa.Date(), nullable=False),
        sa.Column("activity_day", sa.Integer(), nullable=True),
        sa.Column("appointment_day", sa.Integer(), nullable=True),
        sa.Column("is_invited", sa.Boolean(), nullable=False),
        sa.Column("sign_in_after_invitation_days", sa.Double(), nullable=True),
        sa.Column("is_activated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_cohort_fact_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_fact")),
    )
    op.create_index(
        "ix_cohort_fact_organisation_month",
        "cohort_fact",
        ["organisation_id", "registration_month"],
    )
    with op.batch_alter_table("pathway_step", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_started_on", sa.Date(), nullable=True))
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by", sa.String(length=20), nullable=True))
    op.create_index(
        "ix_appointment_beneficiary_status",
        "appointment",
        ["beneficiary_id", "status"],
        postgresql_include=["slot_id"],
    )
    op.create_index(
        "ix_slot_organisation_starts",
        "slot",
        ["organisation_id", "starts_at"],
        postgresql_include=["id"],
    )
    op.create_index(
        "ix_sms_message_organisation_created",
        "sms_message",
        ["organisation_id", "created_at"],
        postgresql_include=["status", "segments"],
    )
    op.create_index(
        "ix_sms_message_reminder_delivered",
        "sms_message",
        ["appointment_id", "sent_at"],
        sqlite_where=sa.text(REMINDER_DELIVERED),
        postgresql_where=sa.text(REMINDER_DELIVERED),
    )

    # What was already there: a started step counts from its last change (the best the
    # portal knows), confirmations and cancellations from their events.
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        day = "(coalesce(updated_at, created_at) AT TIME ZONE 'Europe/Paris')::date"
        op.execute(
            f"UPDATE pathway_step SET seen_started_on = {day} "
            "WHERE status IN ('in_progress', 'done')"
        )
        op.execute(
            "UPDATE appointment a SET confirmed_at = e.first_at FROM ("
            " SELECT (data->>'appointment_id')::int AS appointment_id, min(occurred_at) AS first_at"
            " FROM event WHERE type = 'appointment.confirmed'"
            " AND data->>'appointment_id' IS NOT NULL GROUP BY 1) e"
            " WHERE a.id = e.appointment_id"
        )
        op.execute(
            "UPDATE appointment a SET cancelled_by = e.by FROM ("
            " SELECT DISTINCT ON ((data->>'appointment_id')::int)"
            " (data->>'appointment_id')::int AS appointment_id, data->>'by' AS by"
            " FROM event WHERE type = 'appointment.cancelled'"
            " AND data->>'appointment_id' IS NOT NULL"
            " ORDER BY (data->>'appointment_id')::int, id DESC) e"
            " WHERE a.id = e.appointment_id AND a.status = 'cancelled'"
        )
    else:
        op.execute(
            "UPDATE pathway_step SET seen_started_on = date(coalesce(updated_at, created_at)) "
            "WHERE status IN ('in_progress', 'done')"
        )
        op.execute(
            "UPDATE appointment SET confirmed_at = (SELECT min(occurred_at) FROM event"
            " WHERE type = 'appointment.confirmed'"
            " AND json_extract(data, '$.appointment_id') = appointment.id)"
        )
        op.execute(
            "UPDATE appointment SET cancelled_by = (SELECT json_extract(data, '$.by') FROM event"
            " WHERE type = 'appointment.cancelled'"
            " AND json_extract(data, '$.appointment_id') = appointment.id"
            " ORDER BY id DESC LIMIT 1) WHERE status = 'cancelled'"
        )
    op.execute(
        "UPDATE appointment SET cancelled_by = 'beneficiary' "
        "WHERE status = 'cancelled' AND status_reason = 'rescheduled' AND cancelled_by IS NULL"
    )


def downgrade():
    op.drop_index("ix_sms_message_reminder_delivered", table_name="sms_message")
    op.drop_index("ix_sms_message_organisation_created", table_name="sms_message")
    op.drop_index("ix_slot_organisation_starts", table_name="slot")
    op.drop_index("ix_appointment_beneficiary_status", table_name="appointment")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_column("cancelled_by")
        batch_op.drop_column("confirmed_at")
    with op.batch_alter_table("pathway_step", schema=None) as batch_op:
        batch_op.drop_column("seen_started_on")
    op.drop_index("ix_cohort_fact_organisation_month", table_name="cohort_fact")
    op.drop_table("cohort_fact")
