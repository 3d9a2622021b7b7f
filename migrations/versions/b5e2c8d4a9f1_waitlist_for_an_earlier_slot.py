"""waitlist: people who asked to be told when an earlier slot frees up, the slots offered
to them by SMS, and that SMS's kind

Revision ID: b5e2c8d4a9f1
Revises: 5e2c8a4f7b13
Create Date: 2026-12-04 17:00:00

"""

import sqlalchemy as sa
from alembic import op

import portal.core.db_types

revision = "b5e2c8d4a9f1"
down_revision = "5e2c8a4f7b13"
branch_labels = None
depends_on = None

OLD_KINDS = (
    "sign_in_code",
    "invitation",
    "appointment_requested",
    "appointment_confirmed",
    "appointment_declined",
    "appointment_cancelled",
    "appointment_rescheduled",
    "reminder_48h",
    "reminder_day",
    "opt_out_confirmation",
    "phone_changed",
    "lead_changed",
)
NEW_KINDS = OLD_KINDS + ("waitlist_offer",)


def _kind_check(kinds) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade():
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointment.id"],
            name=op.f("fk_waitlist_entry_appointment_id_appointment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_waitlist_entry_appointment_id")),
    )
    op.create_table(
        "waitlist_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("sms_message_id", sa.Integer(), nullable=True),
        sa.Column("due_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["waitlist_entry.id"],
            name=op.f("fk_waitlist_offer_entry_id_waitlist_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slot.id"],
            name=op.f("fk_waitlist_offer_slot_id_slot"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sms_message_id"],
            ["sms_message.id"],
            name=op.f("fk_waitlist_offer_sms_message_id_sms_message"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_offer")),
        sa.UniqueConstraint("entry_id", "slot_id", name=op.f("uq_waitlist_offer_entry_id_slot_id")),
    )
    with op.batch_alter_table("waitlist_offer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waitlist_offer_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_waitlist_offer_slot_id"), ["slot_id"], unique=False)
    with op.batch_alter_table("sms_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sms_message_sms_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sms_message_sms_kind"), _kind_check(NEW_KINDS))


def downgrade():
    op.execute("DELETE FROM sms_message WHERE kind = 'waitlist_offer'")
    with op.batch_alter_table("sms_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sms_message_sms_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sms_message_sms_kind"), _kind_check(OLD_KINDS))
    with op.batch_alter_table("waitlist_offer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_waitlist_offer_slot_id"))
        batch_op.drop_index(batch_op.f("ix_waitlist_offer_entry_id"))
    op.drop_table("waitlist_offer")
    op.drop_table("waitlist_entry")
