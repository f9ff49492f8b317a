"""record ownership on contacts: owner_id, team_id, partner_account_id, each indexed (the scope clause
every read goes through filters on them)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_COLUMNS = ("owner_id", "team_id", "partner_account_id")


def upgrade() -> None:
    # Contacts created before ownership existed have none: only callers with `all` see them until an
    # admin assigns them.
    with op.batch_alter_table("contacts") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.String(64), nullable=True))
            # With the list's default order (created_at, id) behind the scope column, a caller's first
            # page is an ordered index range on SQLite too, whether they own 10 contacts or 10,000.
            batch.create_index(f"ix_contacts_{name}_created_at", [name, "created_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        for name in _COLUMNS:
            batch.drop_index(f"ix_contacts_{name}_created_at")
            batch.drop_column(name)
