"""hand-over between organisations: proposals and their answers, the lead organisation of
each person, and the SMS that tells the person who now accompanies them

Revision ID: 7a3e5c91d2b4
Revises: 7c1e0b5f2a91
Create Date: 2026-12-04 14:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "7a3e5c91d2b4"
down_revision = "7c1e0b5f2a91"
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
)
NEW_KINDS = OLD_KINDS + ("lead_changed",)
OPEN = sa.text("status = 'proposed'")


def _kind_check(kinds) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade():
    op.create_table(
        "handover",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=False),
        sa.Column("from_organisation_id", sa.Integer(), nullable=False),
        sa.Column("to_organisation_id", sa.Integer(), nullable=False),
        sa.Column("proposed_by_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "accepted",
                "refused",
                "withdrawn",
                name="handover_status",
                native_enum=False,
                create_constraint=True,
                length=9,
            ),
            nullable=False,
        ),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answer_reason", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "from_organisation_id <> to_organisation_id", name=op.f("ck_handover_to_another")
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiary.id"],
            name=op.f("fk_handover_beneficiary_id_beneficiary"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_handover_from_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["to_organisation_id"],
            ["organisation.id"],
            name=op.f("fk_handover_to_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by_id"],
            ["counsellor.id"],
            name=op.f("fk_handover_proposed_by_id_counsellor"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["counsellor.id"],
            name=op.f("fk_handover_answered_by_id_counsellor"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handover")),
    )
    for column in ("beneficiary_id", "from_organisation_id", "to_organisation_id"):
        op.create_index(op.f(f"ix_handover_{column}"), "handover", [column])
    op.create_index(
        "ix_handover_one_open_per_person",
        "handover",
        ["beneficiary_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lead_organisation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_beneficiary_lead_organisation_id_organisation"),
            "organisation",
            ["lead_organisation_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("sms_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sms_message_sms_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sms_message_sms_kind"), _kind_check(NEW_KINDS))


def downgrade():
    op.execute("UPDATE sms_message SET kind = 'phone_changed' WHERE kind = 'lead_changed'")
    with op.batch_alter_table("sms_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sms_message_sms_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sms_message_sms_kind"), _kind_check(OLD_KINDS))
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_beneficiary_lead_organisation_id_organisation"), type_="foreignkey"
        )
        batch_op.drop_column("lead_organisation_id")
    op.drop_index("ix_handover_one_open_per_person", table_name="handover")
    for column in ("beneficiary_id", "from_organisation_id", "to_organisation_id"):
        op.drop_index(op.f(f"ix_handover_{column}"), table_name="handover")
    op.drop_table("handover")
