"""activities: tasks, appointments, the reminder queue and calendar feeds

Revision ID: 0006_activities
Revises: 0003_resource_tables
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0006_activities"
down_revision = "0003_resource_tables"
branch_labels = None
depends_on = None


def _activity_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("contact_id", sa.String(64), nullable=True),
        sa.Column("deal_id", sa.String(64), nullable=True),
        sa.Column("lead_id", sa.String(64), nullable=True),
        sa.Column("reminder_minutes_before", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
        *(
            sa.Column(name, sa.String(64), nullable=True)
            for name in ("owner_id", "team_id", "partner_account_id")
        ),
    ]


def _activity_indexes(table: str, when: str) -> None:
    op.create_index(f"ix_{table}_{when}", table, [when, "id"])
    op.create_index(f"ix_{table}_owner_{when}", table, ["owner_id", when])
    for name in ("team_id", "partner_account_id", "contact_id", "deal_id", "lead_id"):
        op.create_index(f"ix_{table}_{name}", table, [name])


def upgrade() -> None:
    op.create_table(
        "tasks",
        *_activity_columns(),
        sa.Column("due_at", UtcDateTime(), nullable=True),
        sa.Column("priority", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=True),
    )
    _activity_indexes("tasks", "due_at")
    op.create_table(
        "appointments",
        *_activity_columns(),
        sa.Column("start_at", UtcDateTime(), nullable=False),
        sa.Column("end_at", UtcDateTime(), nullable=False),
        sa.Column("location", sa.String(500), nullable=True),
        sa.Column("attendees", sa.JSON(), nullable=False),
    )
    _activity_indexes("appointments", "start_at")
    op.create_table(
        "activity_reminders",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("activity_type", sa.String(16), nullable=False),
        sa.Column("activity_id", sa.String(36), nullable=False),
        sa.Column("minutes_before", sa.Integer(), nullable=False),
        sa.Column("due_at", UtcDateTime(), nullable=False),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_activity_reminders_pending", "activity_reminders", ["sent_at", "due_at"])
    op.create_index("ix_activity_reminders_activity", "activity_reminders", ["activity_id"])
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("last_read_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ux_calendar_feeds_token_hash", "calendar_feeds", ["token_hash"], unique=True)
    op.create_index("ix_calendar_feeds_user", "calendar_feeds", ["user_id", "created_at"])


def downgrade() -> None:
    for table in ("calendar_feeds", "activity_reminders", "appointments", "tasks"):
        op.drop_table(table)
