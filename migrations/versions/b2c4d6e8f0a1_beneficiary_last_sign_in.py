"""beneficiary: when the person last signed in, shown on "Mes données"

Revision ID: b2c4d6e8f0a1
Revises: 5e2b9c4d7a13
Create Date: 2026-12-04 17:40:00

"""

import sqlalchemy as sa
from alembic import op

import portal.core.db_types

revision = "b2c4d6e8f0a1"
down_revision = "5e2b9c4d7a13"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "last_signed_in_at",
                portal.core.db_types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade():
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.drop_column("last_signed_in_at")
