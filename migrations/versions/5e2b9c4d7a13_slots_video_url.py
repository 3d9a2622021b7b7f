"""slots: the video link of a video appointment (contract v1.1)

Revision ID: 5e2b9c4d7a13
Revises: a7d3e5f1c2b4
Create Date: 2026-12-04 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "5e2b9c4d7a13"
down_revision = "a7d3e5f1c2b4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video_url", sa.String(length=500), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_slot_video_url_only_for_video"), "mode = 'video' OR video_url IS NULL"
        )


def downgrade():
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_slot_video_url_only_for_video"), type_="check")
        batch_op.drop_column("video_url")
