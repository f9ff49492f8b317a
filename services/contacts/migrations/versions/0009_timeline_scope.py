"""timeline entries carry the resource type and ownership of the record they are about, so reading a
contact's timeline shows only the entries whose record the caller may read

Existing entries: the resource type from their kind (profile -> contact, the other kinds are their
record's type); interaction entries take their interaction's owner, team and partner account; every other
entry gets no ownership (its events were not kept), which only callers reading every record of its type
see (fail closed) until an event about its record refreshes it.

No new indexes: every read is one contact's entries on (contact_id, occurred_at, id), and the scope is a
filter within that range; an interaction's entry is found by ix_timeline_entries_ref.

Revision ID: 0009_timeline_scope
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_timeline_scope"
down_revision = "0008"
branch_labels = None
depends_on = None

_OWNERSHIP = ("owner_id", "team_id", "partner_account_id")

# The kinds of the mapping as it stood (timeline/mapping.py at 0008) and their records' resource types; a
# kind not named keeps its own name, which no current rule reads (fail closed: nobody sees it).
_KIND_TYPES = {
    "profile": "contact",
    "interaction": "interaction",
    "notification": "notification",
    "deal": "deal",
    "order": "order",
    "payment": "payment",
    "ticket": "ticket",
    "campaign": "campaign",
}


def upgrade() -> None:
    with op.batch_alter_table("timeline_entries") as batch:
        batch.add_column(sa.Column("resource_type", sa.String(32), nullable=True))
        for name in _OWNERSHIP:
            batch.add_column(sa.Column(name, sa.String(64), nullable=True))

    entries = sa.table(
        "timeline_entries",
        sa.column("kind", sa.String),
        sa.column("ref_id", sa.String),
        sa.column("resource_type", sa.String),
        *(sa.column(name, sa.String) for name in _OWNERSHIP),
    )
    interactions = sa.table(
        "interactions",
        sa.column("id", sa.String),
        *(sa.column(name, sa.String) for name in _OWNERSHIP),
    )
    kind_type = sa.case(
        *((entries.c.kind == kind, name) for kind, name in _KIND_TYPES.items()), else_=entries.c.kind
    )
    op.execute(entries.update().values(resource_type=kind_type))
    op.execute(
        entries.update()
        .where(entries.c.resource_type == "interaction")
        .values(
            {
                getattr(entries.c, name): sa.select(getattr(interactions.c, name))
                .where(interactions.c.id == entries.c.ref_id)
                .scalar_subquery()
                for name in _OWNERSHIP
            }
        )
    )

    with op.batch_alter_table("timeline_entries") as batch:
        batch.alter_column("resource_type", existing_type=sa.String(32), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("timeline_entries") as batch:
        for name in (*_OWNERSHIP, "resource_type"):
            batch.drop_column(name)
