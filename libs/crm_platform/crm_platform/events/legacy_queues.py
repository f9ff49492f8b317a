"""Retiring the queue layout before one queue per source: `<service>.<source>.<event_type>`, its retry
queues and its `.dlq` (classic queues, bound by event type).

Left alone, those queues would stay bound to the source's exchange with nobody reading them, growing
for ever, and whatever waited in them at the upgrade (events published while the old worker was down,
retries in flight, parked events) would never be handled. So, after the new topology is declared, each
old queue is unbound, its messages moved (publisher-confirmed, then acked) to the new work queue, or to
the new DLQ for parked ones, and the queue deleted if it is empty. Moving may duplicate a message the
new queue also got (both were bound for a while); consumer positions and the inbox make that harmless.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

import pika
import pika.exceptions

from crm_platform.events import amqp, topology, wire

log = logging.getLogger(__name__)


def retire_per_type_queues(
    connection: pika.BlockingConnection,
    service: str,
    subscriptions: Iterable[tuple[str, str]],
    retry_delays: Iterable[float],
) -> int:
    """Move the messages of the old per-event-type queues of `subscriptions` ((source, event type)
    pairs) into the per-source queues (already declared), delete the old ones; returns how many moved."""
    moved = 0
    delays = sorted(set(retry_delays))
    for source, event_type in sorted(set(subscriptions)):
        old = f"{service}.{source}.{event_type}"
        new = topology.subscription_queue(service, source)
        _unbind(connection, old, wire.exchange_name(source), event_type)
        # Retry queues first: their TTL would otherwise dead-letter into the old queue once it is gone.
        moves = [(topology.retry_queue_name(old, delay), new) for delay in delays]
        moves += [(old, new), (topology.dlq_name(old), topology.dlq_name(new))]
        for legacy, target in moves:
            moved += _move_and_delete(connection, legacy, target)
    if moved:
        log.info("moved %d messages out of retired per-event-type queues", moved, extra={"service": service})
    return moved


def _unbind(connection: pika.BlockingConnection, queue: str, exchange: str, routing_key: str) -> None:
    channel = connection.channel()
    # Unbinding a queue or binding that does not exist is a no-op in RabbitMQ, but a missing exchange
    # closes the channel: nothing to unbind either way.
    with contextlib.suppress(pika.exceptions.ChannelClosedByBroker):
        channel.queue_unbind(queue, exchange, routing_key=routing_key)
        channel.close()


def _move_and_delete(connection: pika.BlockingConnection, legacy: str, target: str) -> int:
    channel = connection.channel()
    try:
        channel.queue_declare(legacy, passive=True)
    except pika.exceptions.ChannelClosedByBroker:
        return 0  # never existed, or already retired
    channel.confirm_delivery()
    moved = 0
    try:
        while True:
            method, properties, body = channel.basic_get(legacy, auto_ack=False)
            if method is None:
                break
            channel.basic_publish("", target, body, properties, mandatory=True)  # confirmed
            channel.basic_ack(method.delivery_tag)
            moved += 1
        channel.queue_delete(legacy, if_empty=True)
    except pika.exceptions.ChannelClosedByBroker as exc:
        # Another process is retiring it too, or a message arrived just now: the next run finishes.
        log.warning("could not retire queue %s yet: %s", legacy, exc.reply_text)
        return moved
    with contextlib.suppress(*amqp.CONNECTION_ERRORS):
        channel.close()
    return moved
