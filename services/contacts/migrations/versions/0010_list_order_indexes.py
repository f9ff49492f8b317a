"""the segmentation filters' indexes carry the default list order (created_at, id) after the filtered
column, and country gets one of its own: a list filtered by country, city, industry or lead source then
reads one index range in order (a page costs the page), where it sorted every match (a page at a
million contacts cost a hundred times one at ten thousand).

Revision ID: 0010_list_order_indexes
Revises: 0009_people_profile
Create Date: 2026-11-26
"""

from alembic import op

revision = "0010_list_order_indexes"
down_revision = "0009_people_profile"
branch_labels = None
depends_on = None

_WIDENED = {
    "ix_contacts_country_city": ["country", "city"],
    "ix_contacts_industry": ["industry"],
    "ix_contacts_lead_source": ["lead_source"],
}


def upgrade() -> None:
    for name, columns in _WIDENED.items():
        op.drop_index(name, table_name="contacts")
        op.create_index(name, "contacts", [*columns, "created_at", "id"])
    op.create_index("ix_contacts_country_created_at", "contacts", ["country", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_contacts_country_created_at", table_name="contacts")
    for name, columns in _WIDENED.items():
        op.drop_index(name, table_name="contacts")
        op.create_index(name, "contacts", columns)
