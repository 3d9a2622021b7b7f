"""indicators: appointment facts and SMS counts per day kept by PostgreSQL triggers, and
the link from a cohort fact to a person still on the portal (followed again: counted once)

Revision ID: 7c1e0b5f2a91
Revises: 73bc21edd204
Create Date: 2026-12-04 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7c1e0b5f2a91"
down_revision = "73bc21edd204"
branch_labels = None
depends_on = None

OUTCOMES = "('attended', 'no_show', 'excused')"
REMINDERS = "('reminder_48h', 'reminder_day')"
COUNTED_SMS = "('sent', 'delivered', 'undelivered', 'failed')"
ACTIVITY_STARTED = (
    "kind IN ('immersion', 'training', 'volunteering', 'employment')"
    " AND status IN ('in_progress', 'done')"
)

FUNCTIONS = f"""
-- What the indicators see of each appointment, from the facts (the same as
-- portal/indicators/summaries.py's live_appointment_facts, which SQLite reads).
CREATE FUNCTION indicators_fill_appointments(first_id integer, last_id integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO appointment_fact (appointment_id, organisation_id, beneficiary_id, starts_at,
        status, cancelled_by, moved, reminded, confirmation_days)
    SELECT a.id, s.organisation_id, a.beneficiary_id, s.starts_at, a.status, a.cancelled_by,
        a.rescheduled_to_id IS NOT NULL,
        a.status IN {OUTCOMES} AND EXISTS (
            SELECT 1 FROM sms_message m
            WHERE m.appointment_id = a.id AND m.kind IN {REMINDERS}
                AND m.status = 'delivered' AND m.sent_at < s.starts_at),
        CASE WHEN a.confirmed_at >= a.booked_at
            THEN CAST(extract(epoch FROM a.confirmed_at - a.booked_at) / 86400
                AS double precision) END
    FROM appointment a JOIN slot s ON s.id = a.slot_id
    WHERE a.id BETWEEN first_id AND last_id
$$;

-- One appointment's fact, made again from the facts. The appointment's row lock makes
-- two refreshes of it wait for each other, the slot's share lock a move of the slot;
-- every statement of a function then reads what the other committed (READ COMMITTED).
CREATE FUNCTION indicators_refresh_appointment(wanted integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM appointment WHERE id = wanted FOR NO KEY UPDATE;
    PERFORM 1 FROM slot WHERE id = (SELECT slot_id FROM appointment WHERE id = wanted)
        FOR SHARE;
    DELETE FROM appointment_fact WHERE appointment_id = wanted;
    PERFORM indicators_fill_appointments(wanted, wanted);
END $$;

-- Counts are added, never recomputed: two transactions counting the same day add up.
CREATE FUNCTION indicators_fill_sms(first_id integer, last_id integer)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO sms_day_count (organisation_id, day, status, messages, segments)
    SELECT organisation_id, (created_at AT TIME ZONE 'Europe/Paris')::date, status,
        count(*), coalesce(sum(segments), 0)
    FROM sms_message
    WHERE id BETWEEN first_id AND last_id AND organisation_id IS NOT NULL
        AND status IN {COUNTED_SMS}
    GROUP BY 1, 2, 3
    ON CONFLICT (organisation_id, day, status) DO UPDATE
    SET messages = sms_day_count.messages + excluded.messages,
        segments = sms_day_count.segments + excluded.segments
$$;

CREATE FUNCTION indicators_appointment_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM indicators_refresh_appointment(NEW.id);
    RETURN NULL;
END $$;

CREATE FUNCTION indicators_slot_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    booked integer;
BEGIN
    IF NEW.starts_at IS DISTINCT FROM OLD.starts_at
        OR NEW.organisation_id IS DISTINCT FROM OLD.organisation_id THEN
        FOR booked IN SELECT id FROM appointment WHERE slot_id = NEW.id ORDER BY id LOOP
            PERFORM indicators_refresh_appointment(booked);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION indicators_sms_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    old_counts boolean := TG_OP <> 'INSERT' AND OLD.organisation_id IS NOT NULL
        AND OLD.status IN {COUNTED_SMS};
    new_counts boolean := TG_OP <> 'DELETE' AND NEW.organisation_id IS NOT NULL
        AND NEW.status IN {COUNTED_SMS};
    old_reminds boolean := TG_OP <> 'INSERT' AND OLD.appointment_id IS NOT NULL
        AND OLD.kind IN {REMINDERS} AND OLD.status = 'delivered';
    new_reminds boolean := TG_OP <> 'DELETE' AND NEW.appointment_id IS NOT NULL
        AND NEW.kind IN {REMINDERS} AND NEW.status = 'delivered';
    same boolean := TG_OP = 'UPDATE'
        AND NEW.organisation_id IS NOT DISTINCT FROM OLD.organisation_id
        AND NEW.created_at = OLD.created_at AND NEW.status = OLD.status
        AND NEW.segments IS NOT DISTINCT FROM OLD.segments;
    same_reminder boolean := TG_OP = 'UPDATE' AND old_reminds = new_reminds
        AND NEW.appointment_id IS NOT DISTINCT FROM OLD.appointment_id
        AND NEW.sent_at IS NOT DISTINCT FROM OLD.sent_at;
BEGIN
    IF old_counts AND NOT same THEN
        UPDATE sms_day_count
        SET messages = messages - 1, segments = segments - coalesce(OLD.segments, 0)
        WHERE organisation_id = OLD.organisation_id
            AND day = (OLD.created_at AT TIME ZONE 'Europe/Paris')::date
            AND status = OLD.status;
    END IF;
    IF new_counts AND NOT same THEN
        INSERT INTO sms_day_count (organisation_id, day, status, messages, segments)
        VALUES (NEW.organisation_id, (NEW.created_at AT TIME ZONE 'Europe/Paris')::date,
            NEW.status, 1, coalesce(NEW.segments, 0))
        ON CONFLICT (organisation_id, day, status) DO UPDATE
        SET messages = sms_day_count.messages + 1,
            segments = sms_day_count.segments + excluded.segments;
    END IF;
    IF (old_reminds OR new_reminds) AND NOT same_reminder THEN
        IF old_reminds THEN
            PERFORM indicators_refresh_appointment(OLD.appointment_id);
        END IF;
        IF new_reminds AND NOT (old_reminds AND NEW.appointment_id = OLD.appointment_id) THEN
            PERFORM indicators_refresh_appointment(NEW.appointment_id);
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER indicators_appointment
AFTER INSERT OR UPDATE OF slot_id, beneficiary_id, status, cancelled_by, rescheduled_to_id,
    booked_at, confirmed_at
ON appointment FOR EACH ROW EXECUTE FUNCTION indicators_appointment_changed();

CREATE TRIGGER indicators_slot
AFTER UPDATE OF starts_at, organisation_id
ON slot FOR EACH ROW EXECUTE FUNCTION indicators_slot_changed();

CREATE TRIGGER indicators_sms
AFTER INSERT OR DELETE OR UPDATE OF organisation_id, created_at, status, segments, kind,
    appointment_id, sent_at
ON sms_message FOR EACH ROW EXECUTE FUNCTION indicators_sms_changed();
"""

DROP_FUNCTIONS = """
DROP TRIGGER indicators_sms ON sms_message;
DROP TRIGGER indicators_slot ON slot;
DROP TRIGGER indicators_appointment ON appointment;
DROP FUNCTION indicators_sms_changed();
DROP FUNCTION indicators_slot_changed();
DROP FUNCTION indicators_appointment_changed();
DROP FUNCTION indicators_fill_sms(integer, integer);
DROP FUNCTION indicators_fill_appointments(integer, integer);
DROP FUNCTION indicators_refresh_appointment(integer);
"""


def upgrade():
    with op.batch_alter_table("cohort_fact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("beneficiary_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_cohort_fact_beneficiary_id"), ["beneficiary_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cohort_fact_beneficiary_id_beneficiary"),
            "beneficiary",
            ["beneficiary_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.create_table(
        "appointment_fact",
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancelled_by", sa.String(length=20), nullable=True),
        sa.Column("moved", sa.Boolean(), nullable=False),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("confirmation_days", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_appointment_fact_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("appointment_id", name=op.f("pk_appointment_fact")),
    )
    op.create_index(
        "ix_appointment_fact_organisation_starts",
        "appointment_fact",
        ["organisation_id", "starts_at"],
        postgresql_include=["status", "cancelled_by", "moved", "reminded", "confirmation_days"],
    )
    op.create_index(
        "ix_appointment_fact_first_held",
        "appointment_fact",
        ["beneficiary_id", "starts_at"],
        postgresql_where=sa.text("status = 'attended'"),
        sqlite_where=sa.text("status = 'attended'"),
    )
    op.create_index(
        "ix_pathway_step_activity_started",
        "pathway_step",
        ["beneficiary_id"],
        postgresql_include=["starts_on", "seen_started_on"],
        postgresql_where=sa.text(ACTIVITY_STARTED),
        sqlite_where=sa.text(ACTIVITY_STARTED),
    )
    op.create_index(
        "ix_invitation_token_person_organisation",
        "invitation_token",
        ["beneficiary_id", "organisation_id"],
        postgresql_include=["created_at"],
    )
    op.create_table(
        "sms_day_count",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", "day", "status", name=op.f("pk_sms_day_count")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(FUNCTIONS)
        op.execute("SELECT indicators_fill_appointments(0, 2147483647)")
        op.execute("SELECT indicators_fill_sms(0, 2147483647)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(DROP_FUNCTIONS)
    op.drop_table("sms_day_count")
    op.drop_index("ix_invitation_token_person_organisation", table_name="invitation_token")
    op.drop_index("ix_pathway_step_activity_started", table_name="pathway_step")
    op.drop_index("ix_appointment_fact_first_held", table_name="appointment_fact")
    op.drop_index("ix_appointment_fact_organisation_starts", table_name="appointment_fact")
    op.drop_table("appointment_fact")
    with op.batch_alter_table("cohort_fact", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_cohort_fact_beneficiary_id_beneficiary"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_cohort_fact_beneficiary_id"))
        batch_op.drop_column("beneficiary_id")
