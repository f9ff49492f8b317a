"""quotes (lines, totals, approval of their discount) and the order a quote's acceptance placed

Revision ID: 0006_quotes
Revises: 0005_payment_notes
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0006_quotes"
down_revision = "0005_payment_notes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("company_id", sa.String(64), nullable=True),
        sa.Column("deal_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("price_list_id", sa.String(36), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        *(
            sa.Column(f"{name}_minor", sa.BigInteger(), nullable=False)
            for name in ("subtotal", "discount", "net", "tax", "total")
        ),
        sa.Column("valid_until", sa.String(10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("approval_state", sa.String(16), nullable=False),
        sa.Column("max_discount_bp", sa.Integer(), nullable=False),
        sa.Column("allowed_discount_bp", sa.Integer(), nullable=False),
        sa.Column("approval_requested_by", sa.String(64), nullable=True),
        sa.Column("approval_requested_at", UtcDateTime(), nullable=True),
        sa.Column("approval_decided_by", sa.String(64), nullable=True),
        sa.Column("approval_decided_at", UtcDateTime(), nullable=True),
        sa.Column("approval_reason", sa.String(500), nullable=True),
        sa.Column("reject_reason", sa.String(500), nullable=True),
        sa.Column("order_id", sa.String(36), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        *(
            sa.Column(name, sa.String(64), nullable=True)
            for name in ("owner_id", "team_id", "partner_account_id")
        ),
    )
    op.create_index("ix_quotes_created", "quotes", ["created_at", "id"])
    op.create_index("ix_quotes_approval", "quotes", ["approval_state", "created_at"])
    op.create_index("ix_quotes_status_valid", "quotes", ["status", "valid_until"])
    for name in ("contact_id", "owner_id", "team_id", "partner_account_id"):
        op.create_index(f"ix_quotes_{name}", "quotes", [name])
    op.add_column("orders", sa.Column("quote_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("quote_id")
    op.drop_table("quotes")
