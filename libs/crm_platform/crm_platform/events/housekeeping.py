"""Pruning the outbox and the inbox, so neither grows for ever; the worker calls these periodically.

Both delete in small batches, one short transaction each, so pruning never holds SQLite's write lock
(or PostgreSQL row locks) long enough to stall request threads, the relay or the consumer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select, tuple_

from crm_platform import config
from crm_platform.events.schema import MessagingTables

OUTBOX_RETENTION = config.Setting(
    "CRM_OUTBOX_RETENTION",
    config.as_float,
    default="86400",
    help="seconds published outbox rows are kept (for operators and replays) before they are deleted",
)
INBOX_RETENTION = config.Setting(
    "CRM_INBOX_RETENTION",
    config.as_float,
    default="604800",
    help="seconds inbox rows (event ids already applied) are kept; must exceed the longest a redelivery "
    "can take: the retry delays plus the time a message may sit in a DLQ before replay",
)

PRUNE_BATCH = 1000


def prune_outbox(
    engine: Engine,
    tables: MessagingTables,
    *,
    now: datetime | None = None,
    retention: float | None = None,
    batch_size: int = PRUNE_BATCH,
) -> int:
    """Delete outbox rows published more than `retention` seconds (`CRM_OUTBOX_RETENTION`, 24 h) before
    `now`; return how many. Pending and parked rows are never deleted. The aggregate's next sequence
    number lives in `aggregate_sequences`, so deleting its rows loses no numbering."""
    outbox = tables.outbox
    retention = OUTBOX_RETENTION.get() if retention is None else retention
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=retention)
    oldest = (
        select(outbox.c.position)
        .where(outbox.c.published_at < cutoff)  # ix_event_outbox_published_at
        .order_by(outbox.c.published_at)
        .limit(batch_size)
    )
    statement = delete(outbox).where(outbox.c.position.in_(oldest.scalar_subquery()))
    return _delete_in_batches(engine, statement, batch_size)


def prune_inbox(
    engine: Engine,
    tables: MessagingTables,
    *,
    now: datetime | None = None,
    retention: float | None = None,
    batch_size: int = PRUNE_BATCH,
) -> int:
    """Delete inbox rows processed more than `retention` seconds (`CRM_INBOX_RETENTION`, 7 days) before
    `now`; return how many.

    An inbox row is what stops a redelivered event from being applied twice, so it must outlive every
    redelivery: the retry delays plus the time a message may sit in a DLQ before an operator replays it.
    Sequenced events (ours) stay safe even after their inbox rows are gone: `consumer_positions` keeps
    the last sequence applied per aggregate and a consumer skips anything at or below it; the inbox is
    the only dedupe for unsequenced events from foreign publishers.
    """
    inbox = tables.inbox
    retention = INBOX_RETENTION.get() if retention is None else retention
    cutoff = (now or datetime.now(UTC)) - timedelta(seconds=retention)
    oldest = (
        select(inbox.c.consumer, inbox.c.event_id)
        .where(inbox.c.processed_at < cutoff)  # ix_inbox_processed_at
        .order_by(inbox.c.processed_at)
        .limit(batch_size)
    )
    key = tuple_(inbox.c.consumer, inbox.c.event_id)
    return _delete_in_batches(engine, delete(inbox).where(key.in_(oldest)), batch_size)


def _delete_in_batches(engine: Engine, statement: Any, batch_size: int) -> int:
    """Run a DELETE bounded by a LIMIT subquery until a batch comes up short; one transaction each."""
    total = 0
    while True:
        with engine.begin() as conn:
            deleted = conn.execute(statement).rowcount
        total += deleted
        if deleted < batch_size:
            return total
