"""reports: the funnel's monthly rollup (funnel_months), backfilled from the stage history

Revision ID: 0008_funnel_rollup
Revises: 0007_quota_notes
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision = "0008_funnel_rollup"
down_revision = "0007_quota_notes"
branch_labels = None
depends_on = None

_KEY = ("pipeline_id", "month", "stage_id", "owner_id", "team_id", "partner_account_id", "currency")
_LENGTHS = {"pipeline_id": 36, "month": 7, "stage_id": 36, "currency": 3}
_COUNTERS = {
    **{f"entered_{g}": sa.Integer() for g in ("month", "quarter", "year")},
    **{f"value_{g}": sa.BigInteger() for g in ("month", "quarter", "year")},
    **{f"advanced_{g}": sa.Integer() for g in ("month", "quarter", "year")},
    "stays": sa.Integer(),
    "stay_micros": sa.BigInteger(),
}


def upgrade() -> None:
    op.create_table(
        "funnel_months",
        *(sa.Column(name, sa.String(length=_LENGTHS.get(name, 64)), nullable=False) for name in _KEY),
        *(sa.Column(name, kind, nullable=False) for name, kind in _COUNTERS.items()),
        sa.PrimaryKeyConstraint(*_KEY),
    )
    # The backfill: the same per-deal computation the deals' writes keep the rollup with (the deals and
    # stage changes tables are as this revision knows them). Should the rollup's columns change later,
    # that revision rebuilds it again; this call then has to be frozen here with the columns of 0008.
    from sales.reports.rollup import rebuild

    session = Session(bind=op.get_bind())
    rebuild(session)
    session.flush()


def downgrade() -> None:
    op.drop_table("funnel_months")
