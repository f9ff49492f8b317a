"""identity: user profile and security version, teams, custom roles, partner accounts, API keys, refresh
tokens, login throttle, audit events

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "partner_accounts",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
    )
    # batch: SQLite cannot add a foreign key to an existing table otherwise.
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("name", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("partner_account_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("primary_team_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("security_version", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("updated_at", UtcDateTime(), nullable=True))
        batch.create_foreign_key(
            "fk_users_partner_account_id", "partner_accounts", ["partner_account_id"], ["id"]
        )
        batch.create_index("ix_users_partner_account_id", ["partner_account_id"])
    op.create_table(
        "teams",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("description", sa.String(1000), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.String(36), sa.ForeignKey("teams.id"), primary_key=True),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("added_at", UtcDateTime(), nullable=False),
    )
    op.create_index("ix_team_members_user_id", "team_members", ["user_id"])
    op.create_table(
        "custom_roles",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("description", sa.String(1000), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("last_used_at", UtcDateTime(), nullable=True),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("family_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("rotated_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
    )
    op.create_index("ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"])
    op.create_index("ix_refresh_tokens_user_id", "refresh_tokens", ["user_id"])
    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", UtcDateTime(), nullable=False),
        sa.Column("last_failure_at", UtcDateTime(), nullable=False),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(36), nullable=True),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=True),
        sa.Column("target_id", sa.String(64), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
    )
    op.create_index("ix_audit_events_occurred_at_id", "audit_events", ["occurred_at", "id"])
    op.create_index("ix_audit_events_actor_id", "audit_events", ["actor_id"])
    op.create_index("ix_audit_events_action", "audit_events", ["action"])


def downgrade() -> None:
    for table in ("audit_events", "login_throttle", "refresh_tokens", "api_keys", "custom_roles"):
        op.drop_table(table)
    op.drop_index("ix_team_members_user_id", "team_members")
    op.drop_table("team_members")
    op.drop_table("teams")
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_partner_account_id")
        batch.drop_constraint("fk_users_partner_account_id", type_="foreignkey")
        for column in ("updated_at", "security_version", "primary_team_id", "partner_account_id", "name"):
            batch.drop_column(column)
    op.drop_table("partner_accounts")
