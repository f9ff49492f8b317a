"""consent records (append-only grants and withdrawals per channel and purpose) and the record of
erasures (contacts.privacy)

Revision ID: 0009_consent
Revises: 0008
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0009_consent"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_records",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contact_id", sa.String(36), sa.ForeignKey("contacts.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(255), nullable=True),
    )
    op.create_index(
        "ix_consent_records_contact_recorded", "consent_records", ["contact_id", "recorded_at", "id"]
    )
    op.create_table(
        "erased_contacts",
        sa.Column("contact_id", sa.String(36), primary_key=True),
        sa.Column("erased_at", UtcDateTime(), nullable=False),
        sa.Column("erased_by", sa.String(255), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erased_contacts")
    op.drop_index("ix_consent_records_contact_recorded", table_name="consent_records")
    op.drop_table("consent_records")
