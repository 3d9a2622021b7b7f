"""two-step sign-in for counsellors

Counsellors get a TOTP secret (set at enrolment, counted once a first code confirmed
it), the step of the last code accepted (no replay) and a count of wrong codes; a new
table keeps the Argon2 hashes of their one-time recovery codes. Organisations may
require the two steps of their counsellors (administrators always need them); existing
ones do not.

Revision ID: 6df62dabd828
Revises: e1a5c0de5e55
Create Date: 2026-12-01 21:34:52.576456

"""

import sqlalchemy as sa
from alembic import op

import portal.core.db_types

revision = "6df62dabd828"
down_revision = "e1a5c0de5e55"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=200), nullable=False),
        sa.Column("used_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["counsellor.id"],
            name=op.f("fk_recovery_code_counsellor_id_counsellor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recovery_code_counsellor_id"), ["counsellor_id"], unique=False
        )

    with op.batch_alter_table("counsellor", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "totp_enabled_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("totp_failures", sa.Integer(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "require_totp_for_counsellors",
                sa.Boolean(),
                server_default=sa.false(),
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("require_totp_for_counsellors")

    with op.batch_alter_table("counsellor", schema=None) as batch_op:
        batch_op.drop_column("totp_failures")
        batch_op.drop_column("totp_last_step")
        batch_op.drop_column("totp_enabled_at")
        batch_op.drop_column("totp_secret")

    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_code_counsellor_id"))

    op.drop_table("recovery_code")
