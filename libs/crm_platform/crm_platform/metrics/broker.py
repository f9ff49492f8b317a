"""Queue depths asked of RabbitMQ when Prometheus scrapes: consumer lag and dead-letter queue depth.

Each refresh opens one short connection and asks `queue_declare(passive=True)` per queue (the ready
count, without changing anything); the answer is cached for a few seconds so several scrapers, or a
scrape every second, cost the broker one round per cache period. A broker that is away makes the
collector answer `crm_broker_collector_up 0` fast (short connect timeout) rather than fail the scrape.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pika
import pika.exceptions
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

DLQ_SUFFIX = ".dlq"  # crm_platform.events.topology.dlq_name; not imported, to keep this module light
DEFAULT_CACHE_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 2.0


@dataclass(frozen=True)
class QueueDepths:
    ready: dict[str, int]  # work queue -> messages ready (absent: the queue does not exist yet)
    dead: dict[str, int]  # work queue -> messages in its dead-letter queue
    up: bool


class QueueDepthCollector(Collector):
    """`crm_queue_messages_ready{queue}` (consumer lag), `crm_dlq_messages{queue}` (its `<queue>.dlq`)
    and `crm_broker_collector_up`, for the work queues a worker consumes."""

    def __init__(
        self,
        amqp_url: str,
        queues: Sequence[str],
        *,
        cache_seconds: float = DEFAULT_CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = amqp_url
        self._queues = tuple(queues)
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()  # one refresh at a time; concurrent scrapes share its answer
        self._cached: QueueDepths | None = None
        self._cached_at = 0.0

    def describe(self) -> list[GaugeMetricFamily]:
        # Without describe(), registering would call collect() and so connect to the broker at start.
        return [
            GaugeMetricFamily("crm_queue_messages_ready", ""),
            GaugeMetricFamily("crm_dlq_messages", ""),
            GaugeMetricFamily("crm_broker_collector_up", ""),
        ]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = self.depths()
        up = GaugeMetricFamily(
            "crm_broker_collector_up", "1 if the broker answered the last queue-depth refresh"
        )
        up.add_metric([], 1 if depths.up else 0)
        yield up
        ready = GaugeMetricFamily(
            "crm_queue_messages_ready",
            "Messages waiting in a work queue for its consumer: the consumer's lag",
            labels=["queue"],
        )
        for queue, count in sorted(depths.ready.items()):
            ready.add_metric([queue], count)
        yield ready
        dead = GaugeMetricFamily(
            "crm_dlq_messages",
            "Messages parked in the dead-letter queue of a work queue, waiting for an operator",
            labels=["queue"],
        )
        for queue, count in sorted(depths.dead.items()):
            dead.add_metric([queue], count)
        yield dead

    def depths(self) -> QueueDepths:
        with self._lock:
            now = self._clock()
            if self._cached is None or now - self._cached_at >= self._cache_seconds:
                self._cached = self._ask_broker()
                self._cached_at = self._clock()
            return self._cached

    def _ask_broker(self) -> QueueDepths:
        ready: dict[str, int] = {}
        dead: dict[str, int] = {}
        try:
            connection = pika.BlockingConnection(self._parameters())
        except Exception as exc:
            log.warning("cannot reach the broker for queue metrics: %s", exc)
            return QueueDepths({}, {}, up=False)
        try:
            channel = connection.channel()
            for queue in self._queues:
                for name, into in ((queue, ready), (queue + DLQ_SUFFIX, dead)):
                    try:
                        into[queue] = channel.queue_declare(name, passive=True).method.message_count
                    except pika.exceptions.ChannelClosedByBroker:
                        # 404: not declared yet (its consumer never started). The broker closed the
                        # channel; the next queue needs a fresh one.
                        channel = connection.channel()
            return QueueDepths(ready, dead, up=True)
        except Exception as exc:
            log.warning("queue metrics refresh failed: %s", exc)
            return QueueDepths(ready, dead, up=False)
        finally:
            with contextlib.suppress(Exception):  # already gone: nothing left to release
                connection.close()

    def _parameters(self) -> pika.URLParameters:
        params = pika.URLParameters(self._url)
        params.connection_attempts = 1
        params.socket_timeout = CONNECT_TIMEOUT_SECONDS
        params.stack_timeout = CONNECT_TIMEOUT_SECONDS * 2
        params.blocked_connection_timeout = CONNECT_TIMEOUT_SECONDS
        params.client_properties = {"connection_name": "queue-metrics"}
        return params
