"""The relay's reads and writes on the outbox: which rows are due, marking them, backing off, parking.

Ordering rule: a row is due only when its aggregate's previous event (`sequence - 1`) is no longer
pending. So an aggregate has at most one row in flight, a row that failed (backing off) or was parked
holds back every later row of its aggregate, and other aggregates keep flowing. A parked row keeps
blocking its aggregate: the later rows stay pending, where operators see them (`outbox_backlog`), until
the parked row is dealt with (published by hand, or its `parked_at` cleared to retry it).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, Row, Table, and_, exists, func, or_, select, update

from crm_platform.db import READ_ONLY

log = logging.getLogger(__name__)

_MAX_ERROR_TEXT = 2000


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential back-off for a row that failed, and when to give up on it."""

    max_attempts: int = 12
    initial_delay: float = 0.5
    max_delay: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1, 2, ...)."""
        return min(self.max_delay, self.initial_delay * 2 ** max(0, attempts - 1))


@dataclass(frozen=True)
class Failure:
    row: Row[Any]
    reason: str  # a metric label: nacked, unroutable, bad_row
    error: str  # what operators read in last_error


@dataclass(frozen=True)
class OutboxBacklog:
    pending: int
    oldest_pending_age_seconds: float  # 0 when nothing is pending
    parked: int


def pending(outbox: Table) -> Any:
    # Matches the partial index ix_event_outbox_pending.
    return and_(outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None))


def due_rows(engine: Engine, outbox: Table, limit: int, now: datetime) -> list[Row[Any]]:
    """Up to `limit` rows to publish now, in position order, at most one per aggregate (see module doc)."""
    previous = outbox.alias("previous")
    previous_pending = exists().where(
        previous.c.aggregate_type == outbox.c.aggregate_type,
        previous.c.aggregate_id == outbox.c.aggregate_id,
        previous.c.sequence == outbox.c.sequence - 1,
        previous.c.published_at.is_(None),
    )
    query = (
        select(outbox)
        .where(
            pending(outbox),
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now),
            ~previous_pending,
        )
        .order_by(outbox.c.position)
        .limit(limit)
    )
    # Read-only: on SQLite polling must not take the write lock every few milliseconds.
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        return list(conn.execute(query))


def mark_published(engine: Engine, outbox: Table, ids: Sequence[str], now: datetime) -> None:
    if not ids:
        return
    with engine.begin() as conn:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(ids), outbox.c.published_at.is_(None))
            .values(published_at=now, attempts=outbox.c.attempts + 1, last_error=None, next_attempt_at=None)
        )


def note_failures(
    engine: Engine, outbox: Table, failures: Sequence[Failure], policy: RetryPolicy, now: datetime
) -> list[Failure]:
    """Count a failed attempt on each row: back off, or park it at the attempt limit. Returns the parked."""
    parked: list[Failure] = []
    if not failures:
        return parked
    with engine.begin() as conn:
        for failure in failures:
            attempts = failure.row.attempts + 1
            values: dict[str, Any] = {"attempts": attempts, "last_error": failure.error[:_MAX_ERROR_TEXT]}
            if attempts >= policy.max_attempts:
                values["parked_at"] = now
                parked.append(failure)
            else:
                values["next_attempt_at"] = now + timedelta(seconds=policy.delay(attempts))
            conn.execute(update(outbox).where(outbox.c.id == failure.row.id).values(**values))
    return parked


def outbox_backlog(engine: Engine, outbox: Table, now: datetime | None = None) -> OutboxBacklog:
    """What the metrics collector reports: rows pending, how long the oldest has waited, rows parked."""
    now = now or datetime.now(UTC)
    with engine.connect().execution_options(**{READ_ONLY: True}) as conn:
        count, oldest = conn.execute(
            select(func.count(), func.min(outbox.c.created_at)).where(pending(outbox))
        ).one()
        parked = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.parked_at.is_not(None))
        ).scalar_one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)  # min() loses the column type on some backends
    age = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return OutboxBacklog(pending=int(count), oldest_pending_age_seconds=age, parked=int(parked))
