"""admin: one-time links for counsellors to choose their password

Revision ID: a7d3e5f1c2b4
Revises: 4c1e7a9d2b60
Create Date: 2026-12-04 14:00:00

"""

import sqlalchemy as sa
from alembic import op

import portal.core.db_types

revision = "a7d3e5f1c2b4"
down_revision = "4c1e7a9d2b60"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "password_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("counsellor_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", portal.core.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["counsellor_id"],
            ["counsellor.id"],
            name=op.f("fk_password_link_counsellor_id_counsellor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_link_token_hash")),
    )
    with op.batch_alter_table("password_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_password_link_counsellor_id"), ["counsellor_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("password_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_link_counsellor_id"))
    op.drop_table("password_link")
