"""the history, idempotency-key and secrets tables every service with resources has (sales' aggregates:
leads and deals, catalogue and orders... each add their tables in revisions of their own above this one)

Revision ID: 0003_resource_tables
Revises: 0002
Create Date: 2026-11-26
"""

from alembic import op

from crm_platform.resources import create_resource_tables_v1, drop_resource_tables_v1

revision = "0003_resource_tables"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_resource_tables_v1(op)


def downgrade() -> None:
    drop_resource_tables_v1(op)
