"""revocable sessions and an outbox that keeps no secret

Each account gets a session token (ending every session of the account is changing
it); SMS kinds gain phone_changed (the old number is told); sign-in codes and links
already sent are hidden in the outbox.

Revision ID: e1a5c0de5e55
Revises: bf3ad9ec989f
Create Date: 2026-12-01 21:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "e1a5c0de5e55"
down_revision = "bf3ad9ec989f"
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
)
NEW_KINDS = OLD_KINDS + ("phone_changed",)


def _random_token() -> str:
    if op.get_bind().dialect.name == "postgresql":
        return "md5(random()::text || clock_timestamp()::text)"
    return "lower(hex(randomblob(16)))"


def _kind_check(kinds) -> str:
    return "kind IN (" + ", ".join(f"'{kind}'" for kind in kinds) + ")"


def upgrade():
    for table in ("beneficiary", "counsellor"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("session_token", sa.String(length=32), nullable=True))
        op.execute(f"UPDATE {table} SET session_token = {_random_token()}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "session_token", existing_type=sa.String(length=32), nullable=False
            )

    with op.batch_alter_table("sms_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sms_message_sms_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sms_message_sms_kind"), _kind_check(NEW_KINDS))

    # Codes and links already sent: the code or the link's token is hidden, as the
    # sender now does the moment a message leaves.
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, kind, body FROM sms_message "
            "WHERE kind IN ('sign_in_code', 'invitation') AND status NOT IN ('queued', 'sending')"
        )
    ).all()
    import re

    for row_id, kind, body in rows:
        if kind == "sign_in_code":
            hidden = re.sub(r"\b\d{6}\b", "••••••", body)
        else:
            hidden = re.sub(r"/connexion/lien/\S+", "/connexion/lien/•••", body)
        if hidden != body:
            connection.execute(
                sa.text("UPDATE sms_message SET body = :body WHERE id = :id"),
                {"body": hidden, "id": row_id},
            )


def downgrade():
    op.execute("UPDATE sms_message SET kind = 'invitation' WHERE kind = 'phone_changed'")
    with op.batch_alter_table("sms_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sms_message_sms_kind"), type_="check")
        batch_op.create_check_constraint(op.f("ck_sms_message_sms_kind"), _kind_check(OLD_KINDS))
    for table in ("counsellor", "beneficiary"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("session_token")
