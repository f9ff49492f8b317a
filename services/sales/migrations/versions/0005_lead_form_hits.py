"""web form submissions counted per form and client address in fixed windows (the rate limit)

Revision ID: 0005_lead_form_hits
Revises: 0004_leads_deals
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0005_lead_form_hits"
down_revision = "0004_leads_deals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_form_hits",
        sa.Column("form_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("window_start", UtcDateTime(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("form_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("lead_form_hits")
