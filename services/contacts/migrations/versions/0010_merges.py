"""duplicates and merges: `merged_into` on contacts and companies (a merged record is an archived
tombstone naming its survivor; indexed, because a later merge re-points the tombstones of its sources),
and an index over (uniqueness_book, phone) for the duplicate-phone check on create.

Existing rows are merged into nothing (NULL): no data to move.

Revision ID: 0010_merges
Revises: 0009_people_profile
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_merges"
down_revision = "0009_people_profile"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ adds and drops an unindexed column in place): a batch operation
    # would re-create `contacts`, which other tables' foreign keys refer to.
    for table in ("contacts", "companies"):
        op.add_column(table, sa.Column("merged_into", sa.String(36), nullable=True))
        op.create_index(f"ix_{table}_merged_into", table, ["merged_into"])
    op.create_index("ix_contacts_book_phone", "contacts", ["uniqueness_book", "phone"])


def downgrade() -> None:
    op.drop_index("ix_contacts_book_phone", table_name="contacts")
    for table in ("contacts", "companies"):
        op.drop_index(f"ix_{table}_merged_into", table_name=table)
        op.drop_column(table, "merged_into")
