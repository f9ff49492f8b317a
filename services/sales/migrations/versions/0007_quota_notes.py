"""quotas: notes (free text)

Revision ID: 0007_quota_notes
Revises: 0006_reports_quotas
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_quota_notes"
down_revision = "0006_reports_quotas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("quotas", sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("quotas") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("notes")
