"""organisation: ceiling of appointments to come per person

Revision ID: b08853887cd0
Revises: 1d1ca7025a70
Create Date: 2026-12-04 13:50:21.622976

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b08853887cd0"
down_revision = "1d1ca7025a70"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("max_upcoming_appointments", sa.Integer(), server_default="3", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_organisation_upcoming_appointments_1_to_10"),
            "max_upcoming_appointments BETWEEN 1 AND 10",
        )


def downgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_organisation_upcoming_appointments_1_to_10"), type_="check"
        )
        batch_op.drop_column("max_upcoming_appointments")
