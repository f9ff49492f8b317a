"""deal registrations and the companies' protection rows

Revision ID: 0004_deal_registrations
Revises: 0003_resource_tables
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0004_deal_registrations"
down_revision = "0003_resource_tables"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deal_registrations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("company_id", sa.String(length=64), nullable=False),
        sa.Column("company_name", sa.String(length=200), nullable=False),
        sa.Column("company_domain", sa.String(length=253), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("expected_amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("expected_close_date", sa.String(length=10), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("decision_reason", sa.String(length=500), nullable=True),
        sa.Column("reviewed_by", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", UtcDateTime(), nullable=True),
        sa.Column("protected_until", UtcDateTime(), nullable=True),
        sa.Column("deal_id", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("partner_account_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    for name in ("owner_id", "team_id", "partner_account_id"):
        op.create_index(
            f"ix_deal_registrations_{name}_created_at", "deal_registrations", [name, "created_at", "id"]
        )
    op.create_index("ix_deal_registrations_created_at", "deal_registrations", ["created_at", "id"])
    op.create_index(
        "ix_deal_registrations_company_domain", "deal_registrations", ["company_domain", "status"]
    )
    op.create_index("ix_deal_registrations_company_id", "deal_registrations", ["company_id"])
    op.create_index("ix_deal_registrations_contact_id", "deal_registrations", ["contact_id"])
    op.create_table(
        "deal_registration_protections",
        sa.Column("company_domain", sa.String(length=253), nullable=False),
        sa.Column("registration_id", sa.String(length=36), nullable=True),
        sa.Column("partner_account_id", sa.String(length=64), nullable=True),
        sa.Column("protected_until", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("company_domain"),
    )


def downgrade() -> None:
    op.drop_table("deal_registration_protections")
    op.drop_table("deal_registrations")  # its indexes go with it
