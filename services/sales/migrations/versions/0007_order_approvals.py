"""orders: the approval of an order beyond its partner's usual terms; partner terms: the approval threshold

Revision ID: 0007_order_approvals
Revises: 0006_quotes
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0007_order_approvals"
down_revision = "0006_quotes"
branch_labels = None
depends_on = None

ORDER_COLUMNS = (
    "approval_state",
    "approval_reasons",
    "approval_threshold_minor",
    "approval_threshold_currency",
    "approval_requested_by",
    "approval_requested_at",
    "approval_decided_by",
    "approval_decided_at",
    "approval_reason",
    "payment_terms_days",
)


def upgrade() -> None:
    # Orders placed before approvals needed none; their net days stay null (their due date says them).
    op.add_column(
        "orders",
        sa.Column("approval_state", sa.String(16), nullable=False, server_default="not_required"),
    )
    op.add_column("orders", sa.Column("approval_reasons", sa.JSON(), nullable=True))
    op.add_column("orders", sa.Column("approval_threshold_minor", sa.BigInteger(), nullable=True))
    op.add_column("orders", sa.Column("approval_threshold_currency", sa.String(3), nullable=True))
    op.add_column("orders", sa.Column("approval_requested_by", sa.String(64), nullable=True))
    op.add_column("orders", sa.Column("approval_requested_at", UtcDateTime(), nullable=True))
    op.add_column("orders", sa.Column("approval_decided_by", sa.String(64), nullable=True))
    op.add_column("orders", sa.Column("approval_decided_at", UtcDateTime(), nullable=True))
    op.add_column("orders", sa.Column("approval_reason", sa.String(500), nullable=True))
    op.add_column("orders", sa.Column("payment_terms_days", sa.Integer(), nullable=True))
    op.create_index("ix_orders_approval", "orders", ["approval_state", "placed_at"])
    op.add_column("partner_terms", sa.Column("approval_threshold_minor", sa.BigInteger(), nullable=True))
    op.add_column("partner_terms", sa.Column("approval_threshold_currency", sa.String(3), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_orders_approval", table_name="orders")
    with op.batch_alter_table("orders") as batch:  # SQLite drops a column by copying the table
        for name in ORDER_COLUMNS:
            batch.drop_column(name)
    with op.batch_alter_table("partner_terms") as batch:
        batch.drop_column("approval_threshold_minor")
        batch.drop_column("approval_threshold_currency")
