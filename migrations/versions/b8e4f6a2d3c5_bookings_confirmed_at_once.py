"""organisations: slot purposes whose bookings are confirmed at once

Revision ID: b8e4f6a2d3c5
Revises: 9a4f6c2e8b17
Create Date: 2026-12-04 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "b8e4f6a2d3c5"
down_revision = "9a4f6c2e8b17"
branch_labels = None
depends_on = None


def upgrade():
    # Every organisation keeps today's behaviour: each booking waits for a counsellor.
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("purposes_confirmed_at_once", sa.JSON(), server_default="[]", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("purposes_confirmed_at_once")
