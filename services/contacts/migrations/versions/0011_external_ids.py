"""external ids on contacts and companies: a record's id in another system, optional, unique among the
live records of a book (a partial unique index: records without one and merged tombstones left out), and
an index for `filter=external_id = "..."` in list order over the records that have one
(contacts.external_ids).

Existing rows have none (NULL): nothing to fill.

Revision ID: 0011_external_ids
Revises: 0010_merges
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_external_ids"
down_revision = "0010_merges"
branch_labels = None
depends_on = None

LIVE = "external_id IS NOT NULL AND merged_into IS NULL"
PRESENT = "external_id IS NOT NULL"


def upgrade() -> None:
    # Plain ALTER TABLE (as 0010_merges): a batch operation would re-create `contacts`, which other
    # tables' foreign keys refer to.
    for table in ("contacts", "companies"):
        op.add_column(table, sa.Column("external_id", sa.String(255), nullable=True))
        op.create_index(
            f"uq_{table}_book_external_id",
            table,
            ["uniqueness_book", "external_id"],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )
        op.create_index(
            f"ix_{table}_external_id",
            table,
            ["external_id", "created_at", "id"],
            sqlite_where=sa.text(PRESENT),
            postgresql_where=sa.text(PRESENT),
        )


def downgrade() -> None:
    for table in ("contacts", "companies"):
        op.drop_index(f"ix_{table}_external_id", table_name=table)
        op.drop_index(f"uq_{table}_book_external_id", table_name=table)
        op.drop_column(table, "external_id")
