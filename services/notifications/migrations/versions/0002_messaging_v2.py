"""sequenced outbox, aggregate sequences, relay lease and consumer positions (messaging tables v2)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

from crm_platform.events.schema import downgrade_messaging_tables_v2, upgrade_messaging_tables_v2

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_messaging_tables_v2(op)


def downgrade() -> None:
    downgrade_messaging_tables_v2(op)
