"""The outbox and inbox tables every service keeps in its own database.

The column definitions are versioned functions: `messaging_tables` (the model the code queries) and the
frozen `create_messaging_tables_v1` migration step both build from `_outbox_v1`/`_inbox_v1`, so the two
cannot drift. A later schema change adds `_v2` definitions plus a `_v2` migration step and points
`messaging_tables` at them; the `_v1` functions never change, because old migrations must replay as they
first ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, column

OUTBOX = "outbox"
INBOX = "inbox"
_UNPUBLISHED_INDEX = "ix_outbox_unpublished"


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


def _outbox_v1() -> list[Column[Any]]:
    return [
        Column("id", String(36), primary_key=True),
        Column("exchange", String(255), nullable=False),
        Column("routing_key", String(255), nullable=False),
        Column("payload", Text, nullable=False),
        Column("headers", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, default=0, server_default="0"),
        Column("last_error", Text, nullable=True),
    ]


def _inbox_v1() -> list[Column[Any]]:
    return [
        Column("consumer", String(255), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    ]


def _unpublished_index_v1() -> dict[str, Any]:
    # Partial index: the relay only ever looks for unpublished rows, oldest first, and published rows
    # (the vast majority) should not make that lookup or the index any bigger.
    unpublished = column("published_at").is_(None)
    return {"postgresql_where": unpublished, "sqlite_where": unpublished}


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Add (once) the outbox and inbox tables to a service's metadata and return them."""
    if OUTBOX in metadata.tables:
        return MessagingTables(metadata.tables[OUTBOX], metadata.tables[INBOX])
    outbox = Table(OUTBOX, metadata, *_outbox_v1())
    Index(_UNPUBLISHED_INDEX, outbox.c.created_at, **_unpublished_index_v1())
    inbox = Table(INBOX, metadata, *_inbox_v1())
    return MessagingTables(outbox, inbox)


def create_messaging_tables_v1(op: Any) -> None:
    """Alembic upgrade step (pass the migration's `op`): create outbox and inbox as of v1."""
    op.create_table(OUTBOX, *_outbox_v1())
    op.create_index(_UNPUBLISHED_INDEX, OUTBOX, ["created_at"], **_unpublished_index_v1())
    op.create_table(INBOX, *_inbox_v1())


def drop_messaging_tables_v1(op: Any) -> None:
    """Alembic downgrade step matching `create_messaging_tables_v1`."""
    op.drop_table(INBOX)
    op.drop_index(_UNPUBLISHED_INDEX, table_name=OUTBOX)
    op.drop_table(OUTBOX)
