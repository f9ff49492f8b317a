"""custom fields: their definitions (`custom_field_definitions`, with a one-row version counter that
each process's cache of them compares against), each record's values as a JSON column of `contacts`
and `companies` (what reads return), and the same values as typed rows of `custom_field_values` with an
index per type (what filters and orders use). Also the indexes the filter's new fields need: birth_date
(the `age` filter is a birth-date range) and, on PostgreSQL, a GIN index over `tags::jsonb` (the
`tags:"vip"` membership test).

Existing records get no values (NULL): no data to move.

Revision ID: 0010_custom_fields
Revises: 0009_people_profile
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.db import UtcDateTime

revision = "0010_custom_fields"
down_revision = "0009_people_profile"
branch_labels = None
depends_on = None

_TYPED = (("text", "text_value"), ("number", "number_value"), ("date", "date_value"), ("bool", "bool_value"))


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "custom_field_definitions",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("resource", sa.String(20), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("choices", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("archived_at", UtcDateTime(), nullable=True),
    )
    op.create_index(
        "uq_custom_field_definitions_resource_name",
        "custom_field_definitions",
        ["resource", "name"],
        unique=True,
    )
    op.create_table(
        "custom_field_catalogue",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.execute(sa.text("INSERT INTO custom_field_catalogue (id, version) VALUES (1, 0)"))
    # Code-point order for text values on PostgreSQL, as every list orders strings (crm_platform.listing
    # .dialects), so its index also serves <, > and ORDER BY there.
    text_type = sa.String(500, collation="C") if postgres else sa.String(500)
    op.create_table(
        "custom_field_values",
        sa.Column("resource", sa.String(20), primary_key=True),
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("field", sa.String(64), primary_key=True),
        sa.Column("ordinal", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("text_value", text_type, nullable=True),
        sa.Column("number_value", sa.Float(), nullable=True),
        sa.Column("date_value", sa.String(10), nullable=True),
        sa.Column("bool_value", sa.Boolean(), nullable=True),
    )
    for kind, column in _TYPED:
        op.create_index(
            f"ix_custom_field_values_{kind}",
            "custom_field_values",
            ["resource", "field", column, "record_id"],
        )
    # Plain ALTER TABLE on both backends (SQLite >= 3.35 drops columns too): a batch copy of `contacts`
    # would have to drop a table other tables' foreign keys point at.
    for table in ("contacts", "companies"):
        op.add_column(table, sa.Column("custom_fields", sa.JSON(none_as_null=True), nullable=True))
    op.create_index("ix_contacts_birth_date", "contacts", ["birth_date"])
    if postgres:
        op.execute(sa.text("CREATE INDEX ix_contacts_tags ON contacts USING gin ((tags::jsonb))"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_contacts_tags", table_name="contacts")
    op.drop_index("ix_contacts_birth_date", table_name="contacts")
    for table in ("contacts", "companies"):
        op.drop_column(table, "custom_fields")
    op.drop_table("custom_field_values")
    op.drop_table("custom_field_catalogue")
    op.drop_index("uq_custom_field_definitions_resource_name", table_name="custom_field_definitions")
    op.drop_table("custom_field_definitions")
