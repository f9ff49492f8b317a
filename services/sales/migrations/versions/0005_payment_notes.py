"""payments: notes (free text)

Revision ID: 0005_payment_notes
Revises: 0004_catalog_orders
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_payment_notes"
down_revision = "0004_catalog_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("notes", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("notes")
