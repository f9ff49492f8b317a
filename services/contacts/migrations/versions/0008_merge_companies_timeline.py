"""joins the companies and the interactions/timeline branches (each created its own tables from 0006)

Revision ID: 0008
Revises: 0007_companies, 0007_timeline
Create Date: 2026-11-26
"""

revision = "0008"
down_revision = ("0007_companies", "0007_timeline")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
