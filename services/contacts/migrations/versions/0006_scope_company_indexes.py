"""each ownership column indexed with `company` and the list order: a scoped list filtered by company
(`company = "..."` with `team_id = t`, `owner_id = me` or `partner_account_id = p`) is one ordered index
range instead of a walk over every record of the team, owner or partner account

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_COLUMNS = ("owner_id", "team_id", "partner_account_id")


def upgrade() -> None:
    for name in _COLUMNS:
        op.create_index(f"ix_contacts_{name}_company", "contacts", [name, "company", "created_at", "id"])


def downgrade() -> None:
    for name in _COLUMNS:
        op.drop_index(f"ix_contacts_{name}_company", "contacts")
