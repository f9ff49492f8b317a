"""reports: quotas, and the indexes the funnel, win rate, forecast and rep KPI queries read

Revision ID: 0006_reports_quotas
Revises: 0005_lead_form_hits
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0006_reports_quotas"
down_revision = "0005_lead_form_hits"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quotas",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    live = sa.text("archived_at IS NULL")
    op.create_index(
        "ux_quotas_period_owner",
        "quotas",
        ["period", "owner_id"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
    op.create_index("ix_quotas_team_id", "quotas", ["team_id"])
    op.create_index(
        "ix_deal_stage_changes_period",
        "deal_stage_changes",
        ["pipeline_id", "changed_at", "deal_id", "to_stage_id"],
    )
    op.create_index("ix_deals_closed_at", "deals", ["closed_at"])
    op.create_index("ix_deals_status_close_date", "deals", ["status", "expected_close_date"])


def downgrade() -> None:
    op.drop_index("ix_deals_status_close_date", table_name="deals")
    op.drop_index("ix_deals_closed_at", table_name="deals")
    op.drop_index("ix_deal_stage_changes_period", table_name="deal_stage_changes")
    op.drop_index("ix_quotas_team_id", table_name="quotas")
    op.drop_index("ux_quotas_period_owner", table_name="quotas")
    op.drop_table("quotas")
