"""Consuming events: idempotent handlers in a DB transaction, retries through delay queues, then a DLQ.

Each handler runs in one transaction with the insert of its inbox row `(queue, event id)`, so an event
redelivered after a crash or published twice is seen, skipped and acked. A failed message is not
requeued in place (that would spin on it and block the queue behind it): a copy goes to a retry queue
that hands it back after a delay, or, after the last retry, to the dead-letter queue, and only once the
broker has confirmed that copy is the original acked.
"""

from __future__ import annotations

import copy
import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pika
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic
from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_platform import config
from crm_platform.db import transaction
from crm_platform.events import amqp, topology, wire
from crm_platform.events.wire import Event

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

RETRY_DELAYS = config.Setting(
    "CRM_EVENT_RETRY_DELAYS",
    config.float_list,
    default="1,5,30",
    help="seconds to wait before each retry of a failed event; after the last one it is dead-lettered",
)

Handler = Callable[[Session, Event], None]

_MAX_ERROR_TEXT = 2000
_POLL_SECONDS = 0.2  # how long run() waits for broker I/O before looking at the stop flag again


@dataclass(frozen=True)
class _Subscription:
    source: str
    event_type: str
    queue: str
    handler: Handler


class _AlreadyProcessed(Exception):
    pass


class EventConsumer:
    """Consumes the events a service subscribed to, one connection, in the thread that calls `run()`."""

    def __init__(
        self,
        amqp_url: str,
        session_factory: sessionmaker[Session],
        inbox_table: Table,
        *,
        service: str,
        prefetch: int = 20,
        retry_delays: list[float] | None = None,
    ) -> None:
        self._amqp_url = amqp_url
        self._session_factory = session_factory
        self._inbox = inbox_table
        self._service = service
        self._prefetch = prefetch
        self._retry_delays = list(RETRY_DELAYS.get() if retry_delays is None else retry_delays)
        self._subscriptions: dict[str, _Subscription] = {}
        self._stopping = threading.Event()
        self._ready = threading.Event()

    def subscribe(self, source_service: str, event_type: str, handler: Handler) -> str:
        """Route `source_service`'s `event_type` events to `handler(session, event)`; returns the queue."""
        queue = topology.queue_name(self._service, source_service, event_type)
        if queue in self._subscriptions:
            raise ValueError(f"already subscribed to {source_service}/{event_type}")
        self._subscriptions[queue] = _Subscription(source_service, event_type, queue, handler)
        return queue

    @property
    def queues(self) -> list[str]:
        return list(self._subscriptions)

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """True once queues are declared and bound, i.e. events published from now on will arrive."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Make `run()` return after the message in hand; only sets a flag, so safe in a signal handler."""
        self._stopping.set()

    def run(self) -> None:
        """Consume until `stop()`, reconnecting with back-off whenever the broker goes away."""
        if not self._subscriptions:
            # A service that consumes nothing (yet) still runs a worker for its relay: idle, don't fail.
            log.info(
                "event consumer has no subscriptions; idle until stopped", extra={"service": self._service}
            )
            self._ready.set()
            self._stopping.wait()
            return
        backoff = amqp.Backoff()
        while not self._stopping.is_set():
            connection = None
            try:
                connection = amqp.connect(self._amqp_url, f"{self._service}-consumer")
                self._consume(connection, backoff)
            except amqp.CONNECTION_ERRORS as exc:
                log.warning(
                    "event consumer lost RabbitMQ (attempt %d): %s",
                    backoff.failures + 1,
                    exc,
                    extra={"service": self._service},
                )
            except Exception:
                # Unacked messages go back to the queue when the connection closes; starting over
                # on a fresh connection beats a dead worker.
                log.exception("event consumer failed unexpectedly", extra={"service": self._service})
            finally:
                self._ready.clear()
                # Closing hands every unacked message back to RabbitMQ for redelivery.
                amqp.close_quietly(connection)
            if not self._stopping.is_set():
                self._stopping.wait(backoff.next_delay())

    # --- inside run() ---------------------------------------------------------------------------------

    def _consume(self, connection: pika.BlockingConnection, backoff: amqp.Backoff) -> None:
        channel = connection.channel()
        # Retry and DLQ copies go out on their own channel in confirm mode, so waiting for a confirm
        # does not interleave with deliveries on the consuming channel.
        publisher = connection.channel()
        publisher.confirm_delivery()
        for sub in self._subscriptions.values():
            topology.declare_consumer_queues(
                channel, sub.queue, sub.source, sub.event_type, self._retry_delays
            )
        channel.basic_qos(prefetch_count=self._prefetch)
        for sub in self._subscriptions.values():
            channel.basic_consume(sub.queue, functools.partial(self._on_message, sub, publisher))
        backoff.reset()
        self._ready.set()
        log.info("event consumer started", extra={"service": self._service, "queues": self.queues})
        while not self._stopping.is_set():
            connection.process_data_events(time_limit=_POLL_SECONDS)

    def _on_message(
        self,
        sub: _Subscription,
        publisher: BlockingChannel,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        if self._stopping.is_set():
            return  # left unacked: redelivered once run() closes the connection
        headers = dict(properties.headers or {})
        attempt = _attempt(headers)
        extra = {
            "event_id": properties.message_id or wire.header_text(headers, "ce-id"),
            "event_type": wire.header_text(headers, "ce-type") or method.routing_key,
            "queue": sub.queue,
            "attempt": attempt,
        }
        attributes = {
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "process",
            "messaging.destination.name": method.exchange,
            "messaging.rabbitmq.destination.routing_key": method.routing_key,
            "messaging.message.id": properties.message_id or "",
            "messaging.consumer.group.name": sub.queue,
        }
        with tracer.start_as_current_span(
            f"{sub.queue} process",
            context=propagate.extract(headers),
            kind=trace.SpanKind.CONSUMER,
            attributes=attributes,
        ) as span:
            try:
                event = wire.decode_event(properties, body)
                handled = self._handle(sub, event)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                self._set_aside(sub, publisher, properties, body, exc, attempt, extra)
                channel.basic_ack(method.delivery_tag)
                return
            channel.basic_ack(method.delivery_tag)
        if handled:
            log.info("event handled", extra=extra)
        else:
            log.info("event already handled; redelivery skipped", extra=extra)

    def _handle(self, sub: _Subscription, event: Event) -> bool:
        """Run the handler with the inbox insert in one transaction; False if it had already run."""
        try:
            with transaction(self._session_factory) as session:
                try:
                    session.execute(
                        insert(self._inbox).values(
                            consumer=sub.queue, event_id=event.id, processed_at=datetime.now(UTC)
                        )
                    )
                except IntegrityError:
                    raise _AlreadyProcessed from None
                sub.handler(session, event)
        except _AlreadyProcessed:
            return False
        return True

    def _set_aside(
        self,
        sub: _Subscription,
        publisher: BlockingChannel,
        properties: pika.BasicProperties,
        body: bytes,
        error: Exception,
        attempt: int,
        extra: dict[str, Any],
    ) -> None:
        """Publish a failed message to its next retry queue, or to the DLQ once retries are used up."""
        headers = {k: v for k, v in (properties.headers or {}).items() if k != "x-death"}
        headers[topology.ATTEMPT_HEADER] = attempt + 1
        headers[topology.ERROR_HEADER] = f"{type(error).__name__}: {error}"[:_MAX_ERROR_TEXT]
        if attempt < len(self._retry_delays):
            delay = self._retry_delays[attempt]
            target = topology.retry_queue_name(sub.queue, delay)
            log.warning("event failed, retrying in %ss: %s", delay, error, extra=extra, exc_info=error)
        else:
            target = topology.dlq_name(sub.queue)
            headers[topology.FAILED_AT_HEADER] = datetime.now(UTC).isoformat()
            log.error(
                "event failed %d times, dead-lettered: %s", attempt + 1, error, extra=extra, exc_info=error
            )
        copied = copy.copy(properties)
        copied.headers = headers
        copied.delivery_mode = wire.PERSISTENT
        publisher.basic_publish("", target, body, copied)


def _attempt(headers: dict[str, Any]) -> int:
    try:
        return max(0, int(headers.get(topology.ATTEMPT_HEADER, 0)))
    except (TypeError, ValueError):
        return 0
