"""appointments: collective sessions (a slot's capacity and title, an appointment's seat)

Revision ID: 5e2c8a4f7b13
Revises: b2c4d6e8f0a1
Create Date: 2026-12-04 17:00:00

One live appointment per slot becomes one per seat: every existing appointment holds
seat 1 of a one-seat slot, so the data already satisfies the new rules.
"""

import sqlalchemy as sa
from alembic import op

revision = "5e2c8a4f7b13"
down_revision = "b2c4d6e8f0a1"
branch_labels = None
depends_on = None

LIVE = sa.text("status IN ('requested', 'confirmed', 'attended', 'no_show', 'excused')")


def upgrade():
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("capacity", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("title", sa.String(length=120), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_slot_capacity_1_to_200"), "capacity BETWEEN 1 AND 200"
        )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seat", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_check_constraint(
            op.f("ck_appointment_seat_1_to_200"), "seat BETWEEN 1 AND 200"
        )
        batch_op.drop_index("uq_appointment_live_slot", sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.create_index(
            "uq_appointment_live_seat",
            ["slot_id", "seat"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )
        batch_op.create_index(
            "uq_appointment_live_person",
            ["slot_id", "beneficiary_id"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )


def downgrade():
    # A session's second seat and beyond cannot survive one live appointment per slot.
    op.execute(sa.text("UPDATE appointment SET status = 'cancelled' WHERE seat > 1"))
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index("uq_appointment_live_person", sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.drop_index("uq_appointment_live_seat", sqlite_where=LIVE, postgresql_where=LIVE)
        batch_op.create_index(
            "uq_appointment_live_slot",
            ["slot_id"],
            unique=True,
            sqlite_where=LIVE,
            postgresql_where=LIVE,
        )
        batch_op.drop_constraint(op.f("ck_appointment_seat_1_to_200"), type_="check")
        batch_op.drop_column("seat")
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_slot_capacity_1_to_200"), type_="check")
        batch_op.drop_column("title")
        batch_op.drop_column("capacity")
