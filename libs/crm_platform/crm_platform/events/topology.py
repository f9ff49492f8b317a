"""Exchanges, queues and bindings of the event bus, and their names.

A service that consumes `contacts`' events reads one queue per source, `notifications.contacts`, bound
to the topic exchange `contacts.events` with routing key `#`: it sees every event of every aggregate of
that source, in the order the relay published them, so it can apply one aggregate's events in sequence
(a queue per event type would let `contact_updated` overtake `contact_created`). Events of types it has
no handler for are acked after moving the aggregate's position on.

Every queue is a quorum queue (replicated, and the only kind with at-least-once dead-lettering):
- the work queue `<queue>` dead-letters to `<queue>.dlq` once a message has been delivered
  `x-delivery-limit` times without an ack: the guard against an event that kills the worker (kill -9,
  OOM) every time it is handled, which would otherwise be redelivered for ever;
- retry queues `<queue>.retry.<ms>` are read by nobody; their TTL dead-letters a message back into the
  work queue after that delay (one queue per delay keeps each FIFO in expiry order);
- `<queue>.dlq` holds what an operator must look at (`crm-<service> dlq list|show|replay`).
Where the broker dead-letters (retry TTL, delivery limit) it does so at-least-once
(`x-dead-letter-strategy: at-least-once`, which requires `x-overflow: reject-publish`): the message
leaves its queue only after the target queue confirmed it, so a broker restart mid-way cannot lose it.

`declare_service_topology` declares all of it for a service (its own exchange too, so the relay never
publishes into nothing); `crm-<service> migrate`, the consumer on every connect and the process before
its relay starts all call it, so events published before a consumer first runs wait in its queue.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from pika.adapters.blocking_connection import BlockingChannel

from crm_platform import config
from crm_platform.events import amqp, wire

log = logging.getLogger(__name__)

# Headers we put on retried, deferred and parked copies; a replay removes them.
ATTEMPT_HEADER = "x-crm-attempt"
ERROR_HEADER = "x-crm-error"
REASON_HEADER = "x-crm-reason"
FAILED_AT_HEADER = "x-crm-failed-at"
GAP_SINCE_HEADER = "x-crm-gap-since"
FAILURE_HEADERS = (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    REASON_HEADER,
    FAILED_AT_HEADER,
    GAP_SINCE_HEADER,
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-delivery-count",
)

DLQ_SUFFIX = ".dlq"
ALL_EVENTS = "#"

DELIVERY_LIMIT = config.Setting(
    "CRM_EVENT_DELIVERY_LIMIT",
    config.positive_int,
    default="20",
    help="deliveries without an ack after which the broker dead-letters a message from a work queue "
    "(a message that crashes the worker every time); changing it needs the queue re-created",
)


def subscription_queue(service: str, source: str) -> str:
    """The work queue in which `service` receives every event `source` publishes."""
    return f"{service}.{source}"


def queue_name(service: str, source: str, event_type: str | None = None) -> str:
    """Older name of `subscription_queue`, kept for callers that still pass an event type (ignored:
    a service has one queue per source now)."""
    return subscription_queue(service, source)


def retry_queue_name(queue: str, delay: float) -> str:
    return f"{queue}.retry.{delay_ms(delay)}"


def dlq_name(queue: str) -> str:
    return queue + DLQ_SUFFIX


def delay_ms(delay: float) -> int:
    return round(delay * 1000)


def _quorum(**arguments: object) -> dict[str, object]:
    return {"x-queue-type": "quorum", **arguments}


def _dead_letter_at_least_once(target_queue: str) -> dict[str, object]:
    return {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": target_queue,
        "x-dead-letter-strategy": "at-least-once",
        "x-overflow": "reject-publish",
    }


def declare_subscription(
    channel: BlockingChannel,
    service: str,
    source: str,
    retry_delays: Iterable[float],
    *,
    delivery_limit: int | None = None,
) -> str:
    """Declare (idempotently) the work, retry and dead-letter queues of `service`'s subscription to
    `source`, bound to every event of the source's exchange; returns the work queue."""
    queue = subscription_queue(service, source)
    exchange = wire.exchange_name(source)
    wire.declare_exchange(channel, exchange)
    limit = DELIVERY_LIMIT.get() if delivery_limit is None else delivery_limit
    channel.queue_declare(dlq_name(queue), durable=True, arguments=_quorum())
    channel.queue_declare(
        queue,
        durable=True,
        arguments=_quorum(**{"x-delivery-limit": limit}, **_dead_letter_at_least_once(dlq_name(queue))),
    )
    channel.queue_bind(queue, exchange, routing_key=ALL_EVENTS)
    for delay in sorted(set(retry_delays)):
        channel.queue_declare(
            retry_queue_name(queue, delay),
            durable=True,
            arguments=_quorum(**{"x-message-ttl": delay_ms(delay)}, **_dead_letter_at_least_once(queue)),
        )
    return queue


def declare_service_topology(
    channel: BlockingChannel,
    service: str,
    sources: Iterable[str],
    retry_delays: Iterable[float],
    *,
    delivery_limit: int | None = None,
) -> list[str]:
    """The service's own exchange plus one subscription per source; returns the work queues."""
    wire.declare_exchange(channel, wire.exchange_name(service))
    delays = list(retry_delays)
    return [
        declare_subscription(channel, service, source, delays, delivery_limit=delivery_limit)
        for source in sorted(set(sources))
    ]


def declare(
    amqp_url: str,
    service: str,
    sources: Iterable[str],
    retry_delays: Iterable[float],
    *,
    retire: Iterable[tuple[str, str]] = (),
) -> list[str]:
    """Connect, declare the service's topology, move what waits in the old per-event-type queues of the
    `retire` (source, event type) pairs into it, disconnect; raises amqp.CONNECTION_ERRORS if the broker
    is away."""
    from crm_platform.events.legacy_queues import retire_per_type_queues  # it builds on this module

    delays = list(retry_delays)
    connection = amqp.connect(amqp_url, f"{service}-topology")
    try:
        queues = declare_service_topology(connection.channel(), service, sources, delays)
        retire_per_type_queues(connection, service, retire, delays)
        return queues
    finally:
        amqp.close_quietly(connection)


def try_declare(
    amqp_url: str,
    service: str,
    sources: Iterable[str],
    retry_delays: Iterable[float],
    *,
    retire: Iterable[tuple[str, str]] = (),
) -> bool:
    """`declare`, but a broker that is away is logged, not raised (the consumer declares again when it
    connects); True if declared."""
    try:
        declare(amqp_url, service, sources, retry_delays, retire=retire)
    except amqp.CONNECTION_ERRORS as exc:
        log.warning(
            "RabbitMQ unreachable, event topology not declared now (the worker declares it when it "
            "connects): %s",
            exc,
            extra={"service": service},
        )
        return False
    return True
