"""leads (and their scoring rules, assignment rules, web forms and recorded activities), pipelines with
their stages, deals and their stage history; the default pipeline

Revision ID: 0004_leads_deals
Revises: 0003_resource_tables
Create Date: 2026-11-26
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0004_leads_deals"
down_revision = "0003_resource_tables"
branch_labels = None
depends_on = None

DEFAULT_PIPELINE_ID = "00000000-0000-4000-8000-00000000d001"
# The default pipeline's stages (id suffix, name, probability): a sensible start, changed like any other.
DEFAULT_STAGES = (
    ("d101", "Qualification", 10),
    ("d102", "Needs analysis", 30),
    ("d103", "Proposal", 60),
    ("d104", "Negotiation", 80),
)


def upgrade() -> None:
    op.create_table(
        "deals",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("pipeline_id", sa.String(length=36), nullable=False),
        sa.Column("stage_id", sa.String(length=36), nullable=False),
        sa.Column("stage_position", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("expected_close_date", sa.String(length=10), nullable=True),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("company_id", sa.String(length=64), nullable=True),
        sa.Column("lead_id", sa.String(length=36), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("close_reason", sa.String(length=500), nullable=True),
        sa.Column("competitor", sa.String(length=200), nullable=True),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
        sa.Column("stage_entered_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("partner_account_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_deals_company_id"), "deals", ["company_id"], unique=False)
    op.create_index(op.f("ix_deals_contact_id"), "deals", ["contact_id"], unique=False)
    op.create_index("ix_deals_created_at", "deals", ["created_at", "id"], unique=False)
    op.create_index(
        "ix_deals_kanban", "deals", ["pipeline_id", "stage_position", "position", "id"], unique=False
    )
    op.create_index("ix_deals_owner_id_created_at", "deals", ["owner_id", "created_at", "id"], unique=False)
    op.create_index(
        "ix_deals_partner_account_id_created_at",
        "deals",
        ["partner_account_id", "created_at", "id"],
        unique=False,
    )
    op.create_index("ix_deals_stage_position", "deals", ["stage_id", "position"], unique=False)
    op.create_index("ix_deals_team_id_created_at", "deals", ["team_id", "created_at", "id"], unique=False)
    op.create_table(
        "lead_activities",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("lead_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_lead_activities_lead", "lead_activities", ["lead_id", "event_type"], unique=False)
    op.create_table(
        "lead_assignment_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("countries", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("user_ids", sa.JSON(), nullable=False),
        sa.Column("turn", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "lead_forms",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("partner_account_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_table(
        "lead_scoring_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("company_domain", sa.String(length=253), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("campaign_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("disqualified_reason", sa.String(length=500), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("score_breakdown", sa.JSON(), nullable=False),
        sa.Column("converted_contact_id", sa.String(length=64), nullable=True),
        sa.Column("converted_company_id", sa.String(length=64), nullable=True),
        sa.Column("converted_deal_id", sa.String(length=36), nullable=True),
        sa.Column("converted_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("team_id", sa.String(length=64), nullable=True),
        sa.Column("partner_account_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_leads_created_at", "leads", ["created_at", "id"], unique=False)
    op.create_index(op.f("ix_leads_email"), "leads", ["email"], unique=False)
    op.create_index("ix_leads_owner_id_created_at", "leads", ["owner_id", "created_at", "id"], unique=False)
    op.create_index(
        "ix_leads_partner_account_id_created_at",
        "leads",
        ["partner_account_id", "created_at", "id"],
        unique=False,
    )
    op.create_index("ix_leads_score", "leads", ["score", "id"], unique=False)
    op.create_index("ix_leads_team_id_created_at", "leads", ["team_id", "created_at", "id"], unique=False)
    op.create_table(
        "pipelines",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "deal_stage_changes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("deal_id", sa.String(length=36), nullable=False),
        sa.Column("pipeline_id", sa.String(length=36), nullable=False),
        sa.Column("from_stage_id", sa.String(length=36), nullable=True),
        sa.Column("to_stage_id", sa.String(length=36), nullable=False),
        sa.Column("actor_id", sa.String(length=255), nullable=False),
        sa.Column("changed_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deal_id"],
            ["deals.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_deal_stage_changes_deal", "deal_stage_changes", ["deal_id", "changed_at"], unique=False
    )
    op.create_index(
        "ix_deal_stage_changes_funnel",
        "deal_stage_changes",
        ["pipeline_id", "to_stage_id", "changed_at"],
        unique=False,
    )
    op.create_table(
        "pipeline_stages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("pipeline_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pipeline_id"],
            ["pipelines.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_pipeline_stages_pipeline_position", "pipeline_stages", ["pipeline_id", "position"], unique=False
    )

    now = datetime.now(UTC)
    pipelines = sa.table(
        "pipelines",
        sa.column("id", sa.String),
        sa.column("name", sa.String),
        sa.column("is_default", sa.Boolean),
        sa.column("version", sa.Integer),
        sa.column("created_at", UtcDateTime()),
        sa.column("updated_at", UtcDateTime()),
    )
    stages = sa.table(
        "pipeline_stages",
        sa.column("id", sa.String),
        sa.column("pipeline_id", sa.String),
        sa.column("name", sa.String),
        sa.column("probability", sa.Integer),
        sa.column("position", sa.Integer),
    )
    op.execute(
        pipelines.insert().values(
            id=DEFAULT_PIPELINE_ID, name="Sales", is_default=True, version=1, created_at=now, updated_at=now
        )
    )
    op.execute(
        stages.insert().values(
            [
                {
                    "id": f"00000000-0000-4000-8000-00000000{suffix}",
                    "pipeline_id": DEFAULT_PIPELINE_ID,
                    "name": name,
                    "probability": probability,
                    "position": position,
                }
                for position, (suffix, name, probability) in enumerate(DEFAULT_STAGES)
            ]
        )
    )


def downgrade() -> None:
    op.drop_table("pipeline_stages")
    op.drop_table("deal_stage_changes")
    op.drop_table("pipelines")
    op.drop_table("leads")
    op.drop_table("lead_scoring_rules")
    op.drop_table("lead_forms")
    op.drop_table("lead_assignment_rules")
    op.drop_table("lead_activities")
    op.drop_table("deals")
