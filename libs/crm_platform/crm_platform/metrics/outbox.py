"""Outbox lag, read from the service's own database when Prometheus scrapes.

A collector rather than gauges the relay sets: the figures must be right even when the relay is stuck or
not running in this process (one relay per database holds the lease), and that is exactly when they
matter. One query over the unpublished rows per scrape; published rows are never scanned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, case, func, select

if TYPE_CHECKING:  # the events package imports this one's parent for its counters
    from crm_platform.events.schema import MessagingTables

log = logging.getLogger(__name__)


class OutboxCollector(Collector):
    """`crm_outbox_pending`, `crm_outbox_oldest_pending_age_seconds`, `crm_outbox_parked` and
    `crm_outbox_collector_up` (0 when the database did not answer: the other three are then absent,
    never a misleading zero)."""

    def __init__(
        self,
        engine: Engine,
        tables: MessagingTables,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._outbox = tables.outbox
        self._clock = clock

    def describe(self) -> list[GaugeMetricFamily]:
        # Without describe(), registering would call collect() and so query the database at start.
        return [
            GaugeMetricFamily("crm_outbox_pending", ""),
            GaugeMetricFamily("crm_outbox_oldest_pending_age_seconds", ""),
            GaugeMetricFamily("crm_outbox_parked", ""),
            GaugeMetricFamily("crm_outbox_collector_up", ""),
        ]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily(
            "crm_outbox_collector_up",
            "1 if the outbox figures could be read from the database at this scrape",
        )
        try:
            pending, oldest, parked = self._read()
        except Exception as exc:  # a scrape must never fail because the database is away
            log.warning("cannot read the outbox for metrics: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield GaugeMetricFamily(
            "crm_outbox_pending",
            "Outbox rows waiting to be published (not published, not parked)",
            value=pending,
        )
        age = 0.0 if oldest is None else max(0.0, (self._clock() - _aware(oldest)).total_seconds())
        yield GaugeMetricFamily(
            "crm_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox row waiting to be published (0 when none waits): the relay's lag",
            value=age,
        )
        yield GaugeMetricFamily(
            "crm_outbox_parked", "Outbox rows the relay gave up on; they need an operator", value=parked
        )

    def _read(self) -> tuple[int, datetime | None, int]:
        outbox = self._outbox
        waiting = outbox.c.parked_at.is_(None)
        query = select(
            func.count().filter(waiting),
            func.min(case((waiting, outbox.c.created_at))),
            func.count().filter(outbox.c.parked_at.is_not(None)),
        ).where(outbox.c.published_at.is_(None))
        with self._engine.connect() as connection:
            pending, oldest, parked = connection.execute(query).one()
        return int(pending or 0), oldest, int(parked or 0)


def _aware(value: datetime | str) -> datetime:
    # min() over a CASE loses the column type on some backends: SQLite then answers the stored text.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
