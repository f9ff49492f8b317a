"""The messaging tables, as a real service's first two migrations create them."""

from alembic import op

from crm_platform.events.schema import create_messaging_tables_v1, upgrade_messaging_tables_v2

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_messaging_tables_v1(op)
    upgrade_messaging_tables_v2(op)
