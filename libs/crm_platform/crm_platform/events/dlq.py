"""Operator tooling for dead-letter queues: look at parked messages, move them back to work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from crm_platform.events import amqp, topology, wire


class QueueNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ParkedMessage:
    event_id: str | None
    event_type: str | None
    attempts: str | None
    error: str | None
    failed_at: str | None


def queue_pair(queue: str) -> tuple[str, str]:
    """(dlq, work queue) from either name, so operators can pass whichever they have at hand."""
    if queue.endswith(topology.DLQ_SUFFIX):
        return queue, queue.removesuffix(topology.DLQ_SUFFIX)
    return topology.dlq_name(queue), queue


def list_parked(amqp_url: str, queue: str) -> list[ParkedMessage]:
    """The messages parked in `queue`'s DLQ, read without removing them."""
    dlq, _ = queue_pair(queue)
    parked = []
    with _channel(amqp_url) as channel:
        for _ in range(_message_count(channel, dlq)):
            method, properties, _body = channel.basic_get(dlq, auto_ack=False)
            if method is None:
                break
            headers = dict(properties.headers or {})
            parked.append(
                ParkedMessage(
                    event_id=properties.message_id or wire.header_text(headers, "ce-id"),
                    event_type=wire.header_text(headers, "ce-type"),
                    attempts=wire.header_text(headers, topology.ATTEMPT_HEADER),
                    error=wire.header_text(headers, topology.ERROR_HEADER),
                    failed_at=wire.header_text(headers, topology.FAILED_AT_HEADER),
                )
            )
        # Everything we took goes back where it was (delivery tag 0 + multiple = all unacked).
        channel.basic_nack(0, multiple=True, requeue=True)
    return parked


def replay(amqp_url: str, queue: str) -> int:
    """Move every message parked in `queue`'s DLQ back to the work queue with its failure history
    removed (so it gets the full set of retries again); returns how many moved."""
    dlq, work_queue = queue_pair(queue)
    moved = 0
    with _channel(amqp_url) as channel:
        _message_count(channel, work_queue)  # refuse to replay into a queue that does not exist
        channel.confirm_delivery()
        # Only what is parked now: a message that fails again during the replay stays for next time.
        for _ in range(_message_count(channel, dlq)):
            method, properties, body = channel.basic_get(dlq, auto_ack=False)
            if method is None:
                break
            properties.headers = {
                k: v for k, v in (properties.headers or {}).items() if k not in topology.FAILURE_HEADERS
            }
            channel.basic_publish("", work_queue, body, properties)  # confirmed before the ack below
            channel.basic_ack(method.delivery_tag)
            moved += 1
    return moved


@contextmanager
def _channel(amqp_url: str) -> Iterator[BlockingChannel]:
    connection = amqp.connect(amqp_url, "dlq-tool")
    try:
        yield connection.channel()
    finally:
        amqp.close_quietly(connection)


def _message_count(channel: BlockingChannel, queue: str) -> int:
    try:
        return channel.queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker as exc:
        raise QueueNotFound(f"no queue named {queue!r}: {exc.reply_text}") from None
