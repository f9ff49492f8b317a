"""emails unique per book instead of across the CRM: each partner account's contacts form one book, the
company's own (no partner account) another; `uniqueness_book` (the partner account id, or "") carries it,
NOT NULL because NULLs are distinct in a unique index

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# 0001 declared `email` unique without a name: PostgreSQL named it contacts_email_key, SQLite left it
# unnamed, and batch mode (which rebuilds the table on SQLite) can only drop it under a conventional name.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
_GLOBAL_UNIQUE = "contacts_email_key"


def _email_unique_constraint() -> str:
    """The name of the constraint making `email` unique across the table (as batch mode will call it)."""
    for unique in sa.inspect(op.get_bind()).get_unique_constraints("contacts"):
        if unique["column_names"] == ["email"]:
            return unique["name"] or "uq_contacts_email"
    raise RuntimeError("contacts.email has no unique constraint to replace")


def upgrade() -> None:
    op.add_column("contacts", sa.Column("uniqueness_book", sa.String(64), nullable=True))
    op.execute("UPDATE contacts SET uniqueness_book = COALESCE(partner_account_id, '')")
    old = _email_unique_constraint()
    with op.batch_alter_table("contacts", naming_convention=_NAMING) as batch:
        batch.alter_column("uniqueness_book", existing_type=sa.String(64), nullable=False)
        batch.drop_constraint(old, type_="unique")
    # Lookups and filters by email alone keep an index; uniqueness is per book.
    op.create_index("ix_contacts_email", "contacts", ["email"])
    op.create_index("uq_contacts_book_email", "contacts", ["uniqueness_book", "email"], unique=True)


def downgrade() -> None:
    # Fails while one email is in several books: merge or rename those contacts first.
    op.drop_index("uq_contacts_book_email", "contacts")
    op.drop_index("ix_contacts_email", "contacts")
    with op.batch_alter_table("contacts") as batch:
        batch.create_unique_constraint(_GLOBAL_UNIQUE, ["email"])
        batch.drop_column("uniqueness_book")
