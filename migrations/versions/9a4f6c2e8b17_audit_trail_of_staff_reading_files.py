"""audit trail: who opened whose file, searched or exported the caseload (issue 17)

Revision ID: 9a4f6c2e8b17
Revises: b5e2c8d4a9f1
Create Date: 2026-12-04 17:20:00

"""

import sqlalchemy as sa
from alembic import op

import portal.core.db_types

revision = "9a4f6c2e8b17"
down_revision = "b5e2c8d4a9f1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("beneficiary_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=40), nullable=True),
        sa.Column("ip_address", sa.String(length=45), nullable=True),
        sa.Column("at", portal.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_audit_entry_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["counsellor.id"],
            name=op.f("fk_audit_entry_counsellor_id_counsellor"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["beneficiary_id"],
            ["beneficiary.id"],
            name=op.f("fk_audit_entry_beneficiary_id_beneficiary"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_entry_organisation_at", ["organisation_id", "at"], unique=False
        )
        batch_op.create_index("ix_audit_entry_beneficiary", ["beneficiary_id", "at"], unique=False)
        batch_op.create_index("ix_audit_entry_counsellor", ["counsellor_id"], unique=False)
        batch_op.create_index("ix_audit_entry_at", ["at"], unique=False)


def downgrade():
    op.drop_table("audit_entry")
