"""contacts become standard resources: version (etag), archived_at, unknown phone/company as NULL; the
history, idempotency-key and secrets tables every service with resources has

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime
from crm_platform.resources import create_resource_tables_v1, drop_resource_tables_v1

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot change a column's nullability in place (it copies the table instead).
    with op.batch_alter_table("contacts") as batch:
        # Existing contacts start at version 1, as new ones do.
        batch.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("archived_at", UtcDateTime(), nullable=True))
        batch.alter_column("phone", existing_type=sa.String(40), nullable=True)
        batch.alter_column("company", existing_type=sa.String(200), nullable=True)
    # "" meant "unknown"; NULL says so, and filters (`phone = null`) and orders treat it as such.
    op.execute("UPDATE contacts SET phone = NULL WHERE phone = ''")
    op.execute("UPDATE contacts SET company = NULL WHERE company = ''")
    create_resource_tables_v1(op)


def downgrade() -> None:
    drop_resource_tables_v1(op)
    op.execute("UPDATE contacts SET phone = '' WHERE phone IS NULL")
    op.execute("UPDATE contacts SET company = '' WHERE company IS NULL")
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("company", existing_type=sa.String(200), nullable=False)
        batch.alter_column("phone", existing_type=sa.String(40), nullable=False)
        batch.drop_column("archived_at")
        batch.drop_column("version")
