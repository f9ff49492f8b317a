"""Operator tooling for dead-letter queues: list parked messages, show one, move them back to work.

Reading a DLQ takes its messages without acking them and hands them all back at the end, so looking
changes nothing (a quorum queue keeps their order). A replay republishes a message to its work queue,
failure headers removed (a fresh retry budget), confirmed before the parked copy is acked.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pika
import pika.exceptions
from pika.adapters.blocking_connection import BlockingChannel

from crm_platform.events import amqp, topology, wire

_HAND_BACK_TIMEOUT = 5.0


class QueueNotFound(LookupError):
    pass


@dataclass(frozen=True)
class ParkedMessage:
    event_id: str | None
    event_type: str | None
    attempts: str | None
    error: str | None
    failed_at: str | None
    reason: str | None = None
    queue: str | None = None  # the DLQ it is parked in
    headers: dict[str, Any] = field(default_factory=dict, repr=False)
    body: bytes = field(default=b"", repr=False)

    def body_text(self) -> str:
        """The body as indented JSON when it is JSON, else as text."""
        try:
            return json.dumps(json.loads(self.body), indent=2, ensure_ascii=False, sort_keys=True)
        except (ValueError, UnicodeDecodeError):
            return self.body.decode("utf-8", errors="replace")


def queue_pair(queue: str) -> tuple[str, str]:
    """(dlq, work queue) from either name, so operators can pass whichever they have at hand."""
    if queue.endswith(topology.DLQ_SUFFIX):
        return queue, queue.removesuffix(topology.DLQ_SUFFIX)
    return topology.dlq_name(queue), queue


def list_parked(amqp_url: str, queue: str) -> list[ParkedMessage]:
    """The messages parked in `queue`'s DLQ, read without removing them."""
    dlq, _ = queue_pair(queue)
    with _channel(amqp_url) as channel:
        parked = [_parked(dlq, properties, body) for _tag, properties, body in _take_all(channel, dlq)]
        _hand_back(channel, dlq, len(parked))
    return parked


def find_parked(amqp_url: str, queues: list[str], event_id: str) -> ParkedMessage | None:
    """The parked message with `event_id` in any of the `queues`' DLQs, or None."""
    for queue in queues:
        for message in list_parked(amqp_url, queue):
            if message.event_id == event_id:
                return message
    return None


def replay(amqp_url: str, queue: str, event_id: str | None = None) -> int:
    """Move the messages parked in `queue`'s DLQ (all of them, or only `event_id`) back to the work
    queue with their failure history removed; returns how many moved."""
    dlq, work_queue = queue_pair(queue)
    moved = 0
    with _channel(amqp_url) as channel:
        _message_count(channel, work_queue)  # refuse to replay into a queue that does not exist
        channel.confirm_delivery()
        # Only what is parked now: a message that fails again during the replay stays for next time.
        kept = 0
        for tag, properties, body in _take_all(channel, dlq):
            if event_id is not None and _event_id(properties) != event_id:
                kept += 1  # handed back with the others below
                continue
            properties.headers = {
                k: v for k, v in (properties.headers or {}).items() if k not in topology.FAILURE_HEADERS
            }
            # mandatory: a work queue deleted meanwhile must fail the replay, not drop the message.
            channel.basic_publish("", work_queue, body, properties, mandatory=True)  # confirmed
            channel.basic_ack(tag)
            moved += 1
        _hand_back(channel, dlq, kept)
    return moved


def _take_all(channel: BlockingChannel, queue: str) -> Iterator[tuple[int, pika.BasicProperties, bytes]]:
    for _ in range(_message_count(channel, queue)):
        method, properties, body = channel.basic_get(queue, auto_ack=False)
        if method is None:
            return
        yield method.delivery_tag, properties, body


def _hand_back(channel: BlockingChannel, queue: str, count: int) -> None:
    """Return every message taken and not acked (delivery tag 0 + multiple = all), and wait until the
    queue shows them again: a quorum queue takes them back asynchronously, and a command run right
    after this one (list, then replay) must find them there."""
    channel.basic_nack(0, multiple=True, requeue=True)
    deadline = time.monotonic() + _HAND_BACK_TIMEOUT
    while _message_count(channel, queue) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def _event_id(properties: pika.BasicProperties) -> str | None:
    return properties.message_id or wire.header_text(dict(properties.headers or {}), "ce-id")


def _parked(dlq: str, properties: pika.BasicProperties, body: bytes) -> ParkedMessage:
    headers = dict(properties.headers or {})
    return ParkedMessage(
        event_id=_event_id(properties),
        event_type=wire.header_text(headers, "ce-type"),
        attempts=wire.header_text(headers, topology.ATTEMPT_HEADER),
        error=wire.header_text(headers, topology.ERROR_HEADER),
        failed_at=wire.header_text(headers, topology.FAILED_AT_HEADER),
        reason=wire.header_text(headers, topology.REASON_HEADER) or _broker_reason(headers),
        queue=dlq,
        headers=headers,
        body=body,
    )


def _broker_reason(headers: dict[str, Any]) -> str | None:
    """Why the broker dead-lettered a message itself (the work queue's delivery limit)."""
    reason = wire.header_text(headers, "x-first-death-reason")
    if reason is None:
        deaths = headers.get("x-death") or []
        if deaths and isinstance(deaths[0], dict):
            reason = wire.header_text(deaths[0], "reason")
    return f"broker: {reason}" if reason else None


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
