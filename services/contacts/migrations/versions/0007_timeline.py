"""interactions (calls, emails, texts, meetings and notes logged under a contact, resource type
`interaction`) and the customer timeline read model (`timeline_entries`, built from events)

Revision ID: 0007_timeline
Revises: 0006
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0007_timeline"
down_revision = "0006"
branch_labels = None
depends_on = None

_OWNERSHIP = ("owner_id", "team_id", "partner_account_id")


def upgrade() -> None:
    op.create_table(
        "interactions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=True),
        sa.Column("channel", sa.String(100), nullable=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("subject", sa.String(200), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(200), nullable=True),
        sa.Column("deal_id", sa.String(64), nullable=True),
        sa.Column("ticket_id", sa.String(64), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        *(sa.Column(name, sa.String(64), nullable=True) for name in _OWNERSHIP),
    )
    op.create_index("ix_interactions_contact_occurred", "interactions", ["contact_id", "occurred_at", "id"])
    for name in _OWNERSHIP:
        op.create_index(f"ix_interactions_{name}", "interactions", [name])
    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("contact_id", sa.String(64), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("ref_type", sa.String(32), nullable=True),
        sa.Column("ref_id", sa.String(64), nullable=True),
        sa.Column("actor_id", sa.String(64), nullable=True),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
    )
    op.create_index(
        "ix_timeline_entries_contact_occurred", "timeline_entries", ["contact_id", "occurred_at", "id"]
    )
    op.create_index("ix_timeline_entries_ref", "timeline_entries", ["ref_type", "ref_id"])
    op.create_index("uq_timeline_entries_event", "timeline_entries", ["event_id", "contact_id"], unique=True)


def downgrade() -> None:
    op.drop_table("timeline_entries")
    op.drop_table("interactions")
