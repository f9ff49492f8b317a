"""record ownership on notifications: owner_id, team_id, partner_account_id (the contact's), each indexed
with the list order (the scope clause every read goes through filters on them)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_COLUMNS = ("owner_id", "team_id", "partner_account_id")


def upgrade() -> None:
    # Notifications stored before ownership existed have none (this service cannot know the contact's):
    # only callers with `all` and no partner account see them, until the contact is next reassigned.
    with op.batch_alter_table("notifications") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.String(64), nullable=True))
            # The scope column, then the list's order (created_at desc, id desc): a caller's page is an
            # ordered index range.
            batch.create_index(f"ix_notifications_{name}_created_at", [name, "created_at", "id"])


def downgrade() -> None:
    with op.batch_alter_table("notifications") as batch:
        for name in _COLUMNS:
            batch.drop_index(f"ix_notifications_{name}_created_at")
            batch.drop_column(name)
