"""caseload: a searchable name on each person (lower case, no accents), its index, and the
référent index of follow-ups

Revision ID: 4c1e7a9d2b60
Revises: 7a3e5c91d2b4
Create Date: 2026-12-04 14:00:00

"""

import sqlalchemy as sa
from alembic import op

from portal.core.text import fold

revision = "4c1e7a9d2b60"
down_revision = "7a3e5c91d2b4"
branch_labels = None
depends_on = None

BATCH = 5000


def _trigrams_available(connection) -> bool:
    """pg_trgm, created here if this role may (a trusted extension since PostgreSQL 13);
    without it a prefix index stands in and substring searches scan."""
    savepoint = connection.begin_nested()
    try:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def upgrade():
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("search_name", sa.String(length=202), nullable=False, server_default="")
        )
    connection = op.get_bind()
    person = sa.table(
        "beneficiary",
        sa.column("id", sa.Integer),
        sa.column("first_name", sa.String),
        sa.column("last_name", sa.String),
        sa.column("search_name", sa.String),
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(person.c.id, person.c.first_name, person.c.last_name)
            .where(person.c.id > last_id)
            .order_by(person.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            sa.update(person)
            .where(person.c.id == sa.bindparam("row_id"))
            .values(search_name=sa.bindparam("folded")),
            [{"row_id": r.id, "folded": fold(f"{r.last_name} {r.first_name}")} for r in rows],
        )
        last_id = rows[-1].id
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.alter_column("search_name", server_default=None)
    if connection.dialect.name == "postgresql":
        if _trigrams_available(connection):
            op.create_index(
                "ix_beneficiary_search_name",
                "beneficiary",
                ["search_name"],
                postgresql_using="gin",
                postgresql_ops={"search_name": "gin_trgm_ops"},
            )
        else:
            op.create_index(
                "ix_beneficiary_search_name",
                "beneficiary",
                ["search_name"],
                postgresql_ops={"search_name": "text_pattern_ops"},
            )
    else:
        op.create_index("ix_beneficiary_search_name", "beneficiary", ["search_name"])
    op.create_index(
        "ix_follow_up_organisation_referent", "follow_up", ["organisation_id", "referent_email"]
    )


def downgrade():
    op.drop_index("ix_follow_up_organisation_referent", table_name="follow_up")
    op.drop_index("ix_beneficiary_search_name", table_name="beneficiary")
    with op.batch_alter_table("beneficiary", schema=None) as batch_op:
        batch_op.drop_column("search_name")
