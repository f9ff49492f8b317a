"""The messaging tables every service keeps in its own database.

- `event_outbox`: events recorded with the business change, waiting for (or kept a while after) publish.
  `position` is the relay's publish order; `(aggregate_type, aggregate_id, sequence)` numbers each
  aggregate's events 1, 2, 3, ... in commit order.
- `aggregate_sequences`: the last sequence handed out per aggregate (outbox rows are pruned, so the
  next number cannot come from them).
- `relay_lease`: one row per relay name; whoever holds the unexpired lease is the only relay publishing
  this database's outbox.
- `inbox`: `(consumer, event id)` of every event a consumer applied, the dedupe for events without a
  sequence (foreign publishers) and kept for the redelivery window.
- `consumer_positions`: per consumer and aggregate, the last sequence applied; the dedupe and ordering
  guard for sequenced events.

The column definitions are versioned functions: `messaging_tables` (the model the code queries) and the
frozen migration steps build from them, so the two cannot drift. A later change adds `_v3` definitions
plus a migration step; older functions never change, because old migrations must replay as they first ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    column,
    insert,
    literal,
    select,
    table,
)

from crm_platform.db import UtcDateTime

OUTBOX_V1 = "outbox"
OUTBOX = "event_outbox"
INBOX = "inbox"
SEQUENCES = "aggregate_sequences"
LEASE = "relay_lease"
POSITIONS = "consumer_positions"
RELAY_LEASE_NAME = "outbox"

_UNPUBLISHED_INDEX_V1 = "ix_outbox_unpublished"
_PENDING_INDEX = "ix_event_outbox_pending"
_PUBLISHED_INDEX = "ix_event_outbox_published_at"
_AGGREGATE_UNIQUE = "uq_event_outbox_aggregate_sequence"
_INBOX_PROCESSED_INDEX = "ix_inbox_processed_at"

# SQLite only auto-increments an INTEGER PRIMARY KEY (its rowid); PostgreSQL gets a 64-bit identity.
_Position = BigInteger().with_variant(Integer(), "sqlite")


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table
    sequences: Table
    lease: Table
    positions: Table


# --- v1 (migration 0001 of every service; replaced by v2) -----------------------------------------


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
    unpublished = column("published_at").is_(None)
    return {"postgresql_where": unpublished, "sqlite_where": unpublished}


def create_messaging_tables_v1(op: Any) -> None:
    """Alembic upgrade step (pass the migration's `op`): create outbox and inbox as of v1."""
    op.create_table(OUTBOX_V1, *_outbox_v1())
    op.create_index(_UNPUBLISHED_INDEX_V1, OUTBOX_V1, ["created_at"], **_unpublished_index_v1())
    op.create_table(INBOX, *_inbox_v1())


def drop_messaging_tables_v1(op: Any) -> None:
    """Alembic downgrade step matching `create_messaging_tables_v1`."""
    op.drop_table(INBOX)
    op.drop_index(_UNPUBLISHED_INDEX_V1, table_name=OUTBOX_V1)
    op.drop_table(OUTBOX_V1)


# --- v2 -------------------------------------------------------------------------------------------


def _outbox_v2() -> list[Any]:
    return [
        Column("position", _Position, primary_key=True, autoincrement=True),
        Column("id", String(36), nullable=False, unique=True),
        Column("aggregate_type", String(64), nullable=False),
        Column("aggregate_id", String(64), nullable=False),
        Column("sequence", BigInteger, nullable=False),
        Column("exchange", String(255), nullable=False),
        Column("routing_key", String(255), nullable=False),
        Column("payload", Text, nullable=False),
        Column("headers", Text, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, default=0, server_default="0"),
        # A row that failed waits until then before the relay tries it again.
        Column("next_attempt_at", UtcDateTime, nullable=True),
        Column("last_error", Text, nullable=True),
        # Set when the relay gave up on the row (attempt limit); it waits for an operator.
        Column("parked_at", UtcDateTime, nullable=True),
        UniqueConstraint("aggregate_type", "aggregate_id", "sequence", name=_AGGREGATE_UNIQUE),
    ]


def _pending_where() -> Any:
    # Partial index: the relay only looks for rows neither published nor parked, in position order;
    # the published rows kept for the retention window must not make that lookup bigger.
    pending = column("published_at").is_(None) & column("parked_at").is_(None)
    return {"postgresql_where": pending, "sqlite_where": pending}


def _sequences_v2() -> list[Column[Any]]:
    return [
        Column("aggregate_type", String(64), primary_key=True),
        Column("aggregate_id", String(64), primary_key=True),
        Column("last_sequence", BigInteger, nullable=False),
    ]


def _lease_v2() -> list[Column[Any]]:
    return [
        Column("name", String(64), primary_key=True),
        Column("holder", String(255), nullable=True),
        Column("expires_at", UtcDateTime, nullable=True),
    ]


def _positions_v2() -> list[Column[Any]]:
    return [
        Column("consumer", String(255), primary_key=True),
        Column("aggregate_type", String(64), primary_key=True),
        Column("aggregate_id", String(64), primary_key=True),
        Column("last_sequence", BigInteger, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """Add (once) the messaging tables to a service's metadata and return them."""
    if OUTBOX not in metadata.tables:
        outbox = Table(OUTBOX, metadata, *_outbox_v2())
        Index(_PENDING_INDEX, outbox.c.position, **_pending_where())
        Index(_PUBLISHED_INDEX, outbox.c.published_at)
        inbox = Table(INBOX, metadata, *_inbox_v1())
        Index(_INBOX_PROCESSED_INDEX, inbox.c.processed_at)
        Table(SEQUENCES, metadata, *_sequences_v2())
        Table(LEASE, metadata, *_lease_v2())
        Table(POSITIONS, metadata, *_positions_v2())
    tables = metadata.tables
    return MessagingTables(tables[OUTBOX], tables[INBOX], tables[SEQUENCES], tables[LEASE], tables[POSITIONS])


def upgrade_messaging_tables_v2(op: Any) -> None:
    """Alembic upgrade step from v1: the sequenced outbox, sequences, the relay lease, consumer positions.

    Rows of the v1 outbox still unpublished move over (each its own aggregate, sequence 1, since v1
    recorded none); published ones are dropped with the old table.
    """
    op.create_table(OUTBOX, *_outbox_v2())
    op.create_index(_PENDING_INDEX, OUTBOX, ["position"], **_pending_where())
    op.create_index(_PUBLISHED_INDEX, OUTBOX, ["published_at"])
    op.create_table(SEQUENCES, *_sequences_v2())
    lease = op.create_table(LEASE, *_lease_v2())
    op.bulk_insert(lease, [{"name": RELAY_LEASE_NAME, "holder": None, "expires_at": None}])
    op.create_table(POSITIONS, *_positions_v2())
    op.create_index(_INBOX_PROCESSED_INDEX, INBOX, ["processed_at"])

    old = table(
        OUTBOX_V1,
        *(column(name) for name in ("id", "exchange", "routing_key", "payload", "headers", "created_at")),
        column("published_at"),
    )
    new = table(
        OUTBOX,
        *(column(name) for name in ("id", "exchange", "routing_key", "payload", "headers", "created_at")),
        column("aggregate_type"),
        column("aggregate_id"),
        column("sequence"),
        column("attempts"),
    )
    op.execute(
        insert(new).from_select(
            [
                "id",
                "exchange",
                "routing_key",
                "payload",
                "headers",
                "created_at",
                "aggregate_type",
                "aggregate_id",
                "sequence",
                "attempts",
            ],
            select(
                old.c.id,
                old.c.exchange,
                old.c.routing_key,
                old.c.payload,
                old.c.headers,
                old.c.created_at,
                literal("v1"),
                old.c.id,
                literal(1),
                literal(0),
            )
            .where(old.c.published_at.is_(None))
            .order_by(old.c.created_at, old.c.id),
        )
    )
    op.drop_index(_UNPUBLISHED_INDEX_V1, table_name=OUTBOX_V1)
    op.drop_table(OUTBOX_V1)


def downgrade_messaging_tables_v2(op: Any) -> None:
    """Alembic downgrade step matching `upgrade_messaging_tables_v2` (pending rows are not carried back)."""
    op.create_table(OUTBOX_V1, *_outbox_v1())
    op.create_index(_UNPUBLISHED_INDEX_V1, OUTBOX_V1, ["created_at"], **_unpublished_index_v1())
    op.drop_index(_INBOX_PROCESSED_INDEX, table_name=INBOX)
    op.drop_table(POSITIONS)
    op.drop_table(LEASE)
    op.drop_table(SEQUENCES)
    op.drop_index(_PUBLISHED_INDEX, table_name=OUTBOX)
    op.drop_index(_PENDING_INDEX, table_name=OUTBOX)
    op.drop_table(OUTBOX)
