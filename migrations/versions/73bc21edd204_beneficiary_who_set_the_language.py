"""beneficiary: who set the language (default, back office, the person)

Revision ID: 73bc21edd204
Revises: b08853887cd0
Create Date: 2026-12-04 14:35:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "73bc21edd204"
down_revision = "b08853887cd0"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language_source", sa.String(length=10), server_default="default", nullable=False
            )
        )
        batch_op.create_check_constraint(
            op.f("ck_beneficiary_language_source_known"),
            "language_source IN ('default', 'backoffice', 'person')",
        )
    # A language other than French on record was sent by a back office or chosen: either
    # way, somebody said it, and a browser must not undo it.
    op.execute("UPDATE beneficiary SET language_source = 'backoffice' WHERE language <> 'fr'")


def downgrade():
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_beneficiary_language_source_known"), type_="check")
        batch_op.drop_column("language_source")
