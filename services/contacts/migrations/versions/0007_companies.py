"""companies (a standard resource: ownership, etag version, archive; the domain unique per book like
contacts' emails) and company_people (a contact linked to a company with a role and a title, once per
pair)

Revision ID: 0007_companies
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0007_companies"
down_revision = "0006"
branch_labels = None
depends_on = None

_OWNERSHIP = ("owner_id", "team_id", "partner_account_id")


def upgrade() -> None:
    op.create_table(
        "companies",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("domain", sa.String(253), nullable=True),
        sa.Column("industry", sa.String(100), nullable=True),
        sa.Column("size", sa.String(20), nullable=True),
        sa.Column("address_street", sa.String(200), nullable=True),
        sa.Column("address_city", sa.String(100), nullable=True),
        sa.Column("address_region", sa.String(100), nullable=True),
        sa.Column("address_postal_code", sa.String(20), nullable=True),
        sa.Column("address_country", sa.String(2), nullable=True),
        sa.Column("parent_company_id", sa.String(64), nullable=True),
        sa.Column("website", sa.String(2000), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.Column("owner_id", sa.String(64), nullable=True),
        sa.Column("team_id", sa.String(64), nullable=True),
        sa.Column("partner_account_id", sa.String(64), nullable=True),
        sa.Column("uniqueness_book", sa.String(64), nullable=False),
    )
    op.create_index("ix_companies_created_at", "companies", ["created_at"])
    op.create_index("ix_companies_parent_company_id", "companies", ["parent_company_id"])
    op.create_index("ix_companies_name", "companies", ["name"])
    for name in _OWNERSHIP:
        op.create_index(f"ix_companies_{name}_created_at", "companies", [name, "created_at", "id"])
    op.create_index("uq_companies_book_domain", "companies", ["uniqueness_book", "domain"], unique=True)

    op.create_table(
        "company_people",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("company_id", sa.String(36), sa.ForeignKey("companies.id"), nullable=False),
        sa.Column("contact_id", sa.String(36), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("role", sa.String(40), nullable=True),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
    )
    op.create_index(
        "uq_company_people_company_contact", "company_people", ["company_id", "contact_id"], unique=True
    )
    op.create_index(
        "ix_company_people_company_created_at", "company_people", ["company_id", "created_at", "id"]
    )
    op.create_index(
        "ix_company_people_contact_created_at", "company_people", ["contact_id", "created_at", "id"]
    )


def downgrade() -> None:
    op.drop_table("company_people")
    op.drop_table("companies")
