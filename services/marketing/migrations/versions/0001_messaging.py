"""the outbox and inbox every service has

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from alembic import op

from crm_platform.events.schema import create_messaging_tables_v1, drop_messaging_tables_v1

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables_v1(op)


def downgrade() -> None:
    drop_messaging_tables_v1(op)
