"""the catalogue (products, price lists and their partner assignments), partner terms, orders and
payments

Revision ID: 0004_catalog_orders
Revises: 0003_resource_tables
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0004_catalog_orders"
down_revision = "0003_resource_tables"
branch_labels = None
depends_on = None


def _resource_columns() -> list[sa.Column]:
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
    ]


def _ownership_columns() -> list[sa.Column]:
    return [
        sa.Column(name, sa.String(64), nullable=True)
        for name in ("owner_id", "team_id", "partner_account_id")
    ]


def upgrade() -> None:
    op.create_table(
        "products",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(32), nullable=False),
        sa.Column("tax_rate_bp", sa.Integer(), nullable=False),
        *_resource_columns(),
    )
    op.create_index("ix_products_name", "products", ["name", "id"])
    op.create_table(
        "price_lists",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("partner_account_ids", sa.JSON(), nullable=False),
        *_resource_columns(),
    )
    op.create_index("ix_price_lists_name", "price_lists", ["name", "id"])
    op.create_table(
        "price_list_partners",
        sa.Column("price_list_id", sa.String(36), primary_key=True),
        sa.Column("partner_account_id", sa.String(64), primary_key=True),
    )
    op.create_index(
        "ix_price_list_partners_partner", "price_list_partners", ["partner_account_id", "price_list_id"]
    )
    op.create_table(
        "partner_terms",
        sa.Column("partner_account_id", sa.String(64), primary_key=True),
        sa.Column("price_list_id", sa.String(36), nullable=True),
        sa.Column("credit_limit_minor", sa.BigInteger(), nullable=True),
        sa.Column("credit_currency", sa.String(3), nullable=True),
        sa.Column("payment_terms_days", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "orders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("company_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("price_list_id", sa.String(36), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("net_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("placed_at", UtcDateTime(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("overdue_at", UtcDateTime(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.String(500), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=True),
        *_resource_columns(),
        *_ownership_columns(),
    )
    op.create_index("ix_orders_placed", "orders", ["placed_at", "id"])
    op.create_index("ix_orders_partner_status", "orders", ["partner_account_id", "status"])
    op.create_index("ix_orders_contact", "orders", ["contact_id"])
    op.create_index("ix_orders_due", "orders", ["overdue_at", "due_at"])
    op.create_index("ix_orders_owner_id", "orders", ["owner_id"])
    op.create_index("ix_orders_team_id", "orders", ["team_id"])
    op.create_table(
        "payments",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=True),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("allocations", sa.JSON(), nullable=False),
        sa.Column("unallocated_minor", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.String(64), nullable=True),
        *_resource_columns(),
        *_ownership_columns(),
    )
    op.create_index("ix_payments_created", "payments", ["created_at", "id"])
    op.create_index("ix_payments_contact", "payments", ["contact_id"])
    for name in ("owner_id", "team_id", "partner_account_id"):
        op.create_index(f"ix_payments_{name}", "payments", [name])


def downgrade() -> None:
    for table in ("payments", "orders", "partner_terms", "price_list_partners", "price_lists", "products"):
        op.drop_table(table)
