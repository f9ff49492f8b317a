"""Consuming events: each aggregate's events applied once and in order, faults told apart.

A service reads one queue per source (`topology`), so it sees every event of an aggregate in the order
the relay published them. The pika connection thread only does I/O; each message is handed to a worker
thread chosen by its aggregate (`dispatch`), which runs the handler in one transaction with the move of
the consumer's position (`ordering`), then asks the connection thread to ack, or to publish a copy
elsewhere and then ack (`connection.add_callback_threadsafe`: pika is not thread-safe).

What a consumer does with a sequenced event (ours carry aggregate type, id and a sequence 1, 2, 3, ...),
against its position `last` for the aggregate (table `consumer_positions`):
- sequence <= last: a duplicate or stale copy (redelivery, replay, the relay publishing twice): skip and
  ack, outcome `duplicate`.
- sequence == last + 1: apply it; the position becomes `sequence` in the same transaction (a
  compare-and-set, so two replicas of the worker cannot both apply it). An event type the service has no
  handler for moves the position on too, outcome `skipped`.
- sequence > last + 1, a gap (an earlier event is in a retry queue, still in flight, or lost): defer it.
  It goes to a retry queue and comes back (header `x-crm-gap-since` remembers when the gap was first
  seen; its retry budget is untouched) until the earlier events fill the gap, or until the gap timeout
  (`CRM_EVENT_GAP_TIMEOUT`, 120 s, longer than all retry delays together so a retried predecessor always
  gets back first). Then it is parked in the DLQ with a reason naming the missing sequences; its
  successors follow it there the same way, so replaying the DLQ replays the aggregate in order.
- no position yet: sequence 1 is applied; a later sequence is deferred like a gap and, at the timeout,
  applied (a consumer that joined mid-stream, after the earlier events were published), logged.
- an event set aside for a retry or parked in the DLQ while its aggregate has no position first records
  `sequence - 1`, so the aggregate's later events wait for it instead of overtaking it.
A batch event (wire.batch_items: one event announcing many new aggregates, e.g. an import chunk's
contacts) is judged on its own aggregate as above, then its items on theirs, in one query: items already
applied are dropped (a redelivery), a gap before any item defers the whole event (as a gap does, the
joined-mid-stream rule per item), the handler, if any, runs once with the fresh items only, and every
fresh item's position moves with the event's in the same transaction, also without a handler, so an
item's next event applies at once. A batch set aside holds its items' places too.
Events without a sequence (a foreign publisher such as plain nameko) are deduplicated by the inbox,
`(queue, event id)` inserted in the handler's transaction.

What a consumer does when handling fails (`failures.classify`):
- transient (database or network away): the worker thread backs off and retries the same event in place,
  spending none of its budget; the aggregate's later events wait behind it, the connection and its
  heartbeats stay up, and on stop the unacked message is simply redelivered.
- poison (unparseable, `PoisonEvent` from the handler, a version the subscription does not understand):
  to the DLQ at once, the reason in `x-crm-reason`.
- anything else (a handler bug): retry queues with back-off (`CRM_EVENT_RETRY_DELAYS`), then the DLQ.
A copy set aside is published with confirms before the original is acked, so a crash in between
duplicates (harmless, see above) rather than loses. The broker's delivery limit on the work queue parks
a message that kills the worker every time it is handled.
"""

from __future__ import annotations

import copy
import functools
import logging
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pika
import pika.exceptions
from opentelemetry import propagate, trace
from opentelemetry.trace import Status, StatusCode
from pika.adapters.blocking_connection import BlockingChannel
from pika.spec import Basic
from sqlalchemy import Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_platform import config
from crm_platform.db import transaction
from crm_platform.events import amqp, ordering, topology, wire
from crm_platform.events.dispatch import KeyedWorkerPool
from crm_platform.events.failures import Fault, UnknownVersion, classify
from crm_platform.events.ordering import PositionConflict, Verdict
from crm_platform.events.schema import POSITIONS, MessagingTables
from crm_platform.events.wire import Event
from crm_platform.metrics import EVENT_HANDLER_SECONDS, EVENTS_CONSUMED

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

RETRY_DELAYS = config.Setting(
    "CRM_EVENT_RETRY_DELAYS",
    config.float_list,
    default="1,5,30",
    help="seconds to wait before each retry of an event whose handler failed (a bug, not an outage); "
    "after the last one it is dead-lettered",
)
GAP_TIMEOUT = config.Setting(
    "CRM_EVENT_GAP_TIMEOUT",
    config.as_float,
    default="120",
    help="seconds an event waits for the missing earlier events of its aggregate before it is parked in "
    "the DLQ (or, for an aggregate the consumer never saw, applied); must exceed the sum of "
    "CRM_EVENT_RETRY_DELAYS",
)
GAP_RECHECK_DELAY = config.Setting(
    "CRM_EVENT_GAP_RECHECK_DELAY",
    config.as_float,
    default="1",
    help="seconds between two looks at an event waiting for the earlier events of its aggregate",
)
WORKERS = config.Setting(
    "CRM_EVENT_WORKERS",
    config.positive_int,
    default="4",
    help="handler threads per consumer; one aggregate's events always run on the same one",
)

PREFETCH_PER_WORKER = 4  # enough to keep every worker busy without hoarding messages
DEFAULT_VERSIONS = frozenset({1})

Handler = Callable[[Session, Event], None]

_MAX_ERROR_TEXT = 2000
_POLL_SECONDS = 0.2  # how long run() waits for broker I/O before looking at the stop flag again
_STOP_GRACE_SECONDS = 5.0  # how long stopping waits for handlers in progress to finish


@dataclass(frozen=True)
class _Subscription:
    source: str
    event_type: str
    queue: str
    handler: Handler
    versions: frozenset[int]


@dataclass(frozen=True)
class _Delivery:
    """One message in the hands of a worker thread, with what is needed to answer for it."""

    connection: pika.BlockingConnection
    channel: BlockingChannel
    publisher: BlockingChannel
    queue: str
    source: str
    delivery_tag: int
    properties: pika.BasicProperties
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)

    @property
    def attempt(self) -> int:
        try:
            return max(0, int(self.headers.get(topology.ATTEMPT_HEADER, 0)))
        except (TypeError, ValueError):
            return 0


@dataclass(frozen=True)
class _SetAside:
    """Where a message goes instead of being acked as done, and why."""

    target: str
    outcome: str  # deferred | retried | dead_lettered
    headers: dict[str, Any]


class _Duplicate(Exception):
    pass


class _Gap(Exception):
    def __init__(
        self, position: ordering.Position, gap_since: datetime, aggregate: tuple[str, str, int]
    ) -> None:
        super().__init__(position)
        self.position = position
        self.gap_since = gap_since
        self.aggregate = aggregate  # the (type, id, sequence) that waits: the event's, or a batch item's


class EventConsumer:
    """Consumes the events a service subscribed to over one connection, in the thread that calls
    `run()`, with handlers on a pool of worker threads."""

    def __init__(
        self,
        amqp_url: str,
        session_factory: sessionmaker[Session],
        tables: MessagingTables | Table,
        *,
        service: str,
        workers: int | None = None,
        prefetch: int | None = None,
        retry_delays: list[float] | None = None,
        gap_timeout: float | None = None,
        gap_recheck_delay: float | None = None,
        transient_backoff: tuple[float, float] = (0.2, 10.0),
    ) -> None:
        """`tables` is the service's MessagingTables, or (the older form) its inbox table, whose
        metadata must also hold `consumer_positions` (`messaging_tables` adds both)."""
        self._amqp_url = amqp_url
        self._session_factory = session_factory
        self._inbox, self._positions = _inbox_and_positions(tables)
        self._service = service
        self._workers = WORKERS.get() if workers is None else workers
        self._prefetch = prefetch or self._workers * PREFETCH_PER_WORKER
        self._retry_delays = list(RETRY_DELAYS.get() if retry_delays is None else retry_delays)
        self._gap_timeout = GAP_TIMEOUT.get() if gap_timeout is None else gap_timeout
        self._gap_recheck = GAP_RECHECK_DELAY.get() if gap_recheck_delay is None else gap_recheck_delay
        if self._gap_timeout <= sum(self._retry_delays):
            raise ValueError(
                f"gap timeout {self._gap_timeout}s must exceed the sum of the retry delays "
                f"{self._retry_delays}, or a retried event would find its successors parked"
            )
        self._transient_backoff = transient_backoff
        self._subscriptions: dict[str, dict[str, _Subscription]] = {}  # source -> event type -> sub
        self._stopping = threading.Event()
        self._ready = threading.Event()

    def subscribe(
        self,
        source_service: str,
        event_type: str,
        handler: Handler,
        *,
        versions: Collection[int] = DEFAULT_VERSIONS,
    ) -> str:
        """Route `source_service`'s `event_type` events of the schema `versions` it understands to
        `handler(session, event)`; returns the queue (shared by all of the source's event types)."""
        queue = topology.subscription_queue(self._service, source_service)
        by_type = self._subscriptions.setdefault(source_service, {})
        if event_type in by_type:
            raise ValueError(f"already subscribed to {source_service}/{event_type}")
        by_type[event_type] = _Subscription(source_service, event_type, queue, handler, frozenset(versions))
        return queue

    @property
    def sources(self) -> list[str]:
        return sorted(self._subscriptions)

    @property
    def queues(self) -> list[str]:
        return [topology.subscription_queue(self._service, source) for source in self.sources]

    @property
    def set_aside_delays(self) -> list[float]:
        """The delays of every retry queue this consumer uses (retries and gap re-checks)."""
        return set_aside_delays(self._retry_delays, self._gap_recheck)

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """True once queues are declared and bound, i.e. events published from now on will arrive."""
        return self._ready.wait(timeout)

    def stop(self) -> None:
        """Make `run()` return once handlers in progress finish; only sets a flag, so safe in a signal
        handler. Messages not yet acked are redelivered."""
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
            pool = KeyedWorkerPool(self._workers, f"{self._service}-events")
            try:
                connection = amqp.connect(self._amqp_url, f"{self._service}-consumer")
                self._consume(connection, pool, backoff)
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
                pool.stop(timeout=_STOP_GRACE_SECONDS)
                # Closing hands every unacked message back to RabbitMQ for redelivery.
                amqp.close_quietly(connection)
            if not self._stopping.is_set():
                self._stopping.wait(backoff.next_delay())

    # --- the connection thread -------------------------------------------------------------------------

    def _consume(
        self, connection: pika.BlockingConnection, pool: KeyedWorkerPool, backoff: amqp.Backoff
    ) -> None:
        channel = connection.channel()
        # Copies set aside go out on their own channel in confirm mode, so waiting for a confirm
        # does not interleave with deliveries on the consuming channel.
        publisher = connection.channel()
        publisher.confirm_delivery()
        topology.declare_service_topology(channel, self._service, self.sources, self.set_aside_delays)
        channel.basic_qos(prefetch_count=self._prefetch)
        for source in self.sources:
            queue = topology.subscription_queue(self._service, source)
            on_message = functools.partial(self._on_message, connection, publisher, pool, queue, source)
            channel.basic_consume(queue, on_message)
        backoff.reset()
        self._ready.set()
        log.info("event consumer started", extra={"service": self._service, "queues": self.queues})
        while not self._stopping.is_set():
            connection.process_data_events(time_limit=_POLL_SECONDS)
        # Let handlers in progress finish and their acks go out, rather than redo their work.
        deadline = time.monotonic() + _STOP_GRACE_SECONDS
        pool.stop(timeout=0)
        while not pool.idle() and time.monotonic() < deadline:
            connection.process_data_events(time_limit=0.05)
        connection.process_data_events(time_limit=0)

    def _on_message(
        self,
        connection: pika.BlockingConnection,
        publisher: BlockingChannel,
        pool: KeyedWorkerPool,
        queue: str,
        source: str,
        channel: BlockingChannel,
        method: Basic.Deliver,
        properties: pika.BasicProperties,
        body: bytes,
    ) -> None:
        if self._stopping.is_set():
            return  # left unacked: redelivered once run() closes the connection
        headers = dict(properties.headers or {})
        delivery = _Delivery(
            connection, channel, publisher, queue, source, method.delivery_tag, properties, body, headers
        )
        pool.submit(
            _ordering_key(headers, properties, method), functools.partial(self._process, pool, delivery)
        )

    # --- a worker thread -------------------------------------------------------------------------------

    def _process(self, pool: KeyedWorkerPool, delivery: _Delivery) -> None:
        headers = delivery.headers
        extra = {
            "event_id": delivery.properties.message_id or wire.header_text(headers, "ce-id"),
            "event_type": wire.header_text(headers, "ce-type"),
            "queue": delivery.queue,
            "attempt": delivery.attempt,
        }
        attributes = {
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "process",
            "messaging.destination.name": wire.exchange_name(delivery.source),
            "messaging.rabbitmq.destination.routing_key": extra["event_type"] or "",
            "messaging.message.id": extra["event_id"] or "",
            "messaging.consumer.group.name": delivery.queue,
        }
        with tracer.start_as_current_span(
            f"{delivery.queue} process",
            context=propagate.extract(headers),
            kind=trace.SpanKind.CONSUMER,
            attributes=attributes,
        ) as span:
            outcome = self._settle(pool, delivery, span, extra)
        if outcome is not None:
            EVENTS_CONSUMED.labels(delivery.queue, extra["event_type"] or "", outcome).inc()

    def _settle(
        self, pool: KeyedWorkerPool, delivery: _Delivery, span: trace.Span, extra: dict[str, Any]
    ) -> str | None:
        """Handle the message until there is an answer for it; the outcome, or None if it was left for
        redelivery (stopping, or the connection it came on is gone)."""
        backoff = amqp.Backoff(*self._transient_backoff)
        while not pool.stopping and delivery.connection.is_open:
            event: Event | None = None
            try:
                event = wire.decode_event(delivery.properties, delivery.body)
                outcome = self._apply(delivery, event, span)
                if outcome == "skipped":
                    log.debug("event of a type without handler skipped", extra=extra)
                else:
                    log.info("event %s", outcome, extra=extra)
                self._answer(delivery, None)
                return outcome
            except PositionConflict:
                continue  # another replica moved the position meanwhile: judge again
            except _Gap as gap:
                set_aside = self._after_gap(delivery, event, gap, extra)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                fault = classify(exc)
                if fault is Fault.TRANSIENT:
                    EVENTS_CONSUMED.labels(delivery.queue, extra["event_type"] or "", "transient").inc()
                    delay = backoff.next_delay()
                    log.warning(
                        "event handler hit an outage, retrying in place in %.1fs: %s", delay, exc, extra=extra
                    )
                    pool.wait_stopping(delay)
                    continue
                set_aside = self._after_failure(delivery, event, exc, fault, extra)
            try:
                if event is not None and ordering.is_sequenced(event) and set_aside.outcome != "deferred":
                    with transaction(self._session_factory) as session:
                        ordering.hold_place(session, self._positions, delivery.queue, event)
                        items = _items_or_none(event)
                        if items:
                            ordering.hold_item_places(session, self._positions, delivery.queue, items)
            except Exception as exc:
                if classify(exc) is Fault.TRANSIENT:
                    log.warning("database away while setting an event aside: %s", exc, extra=extra)
                    pool.wait_stopping(backoff.next_delay())
                    continue
                # Setting it aside matters more than the place-holder: without an answer the message
                # would sit unacked, holding a prefetch slot, until the connection closes.
                log.exception("could not hold the aggregate's place for a set-aside event", extra=extra)
            self._answer(delivery, set_aside)
            return set_aside.outcome
        return None

    def _apply(self, delivery: _Delivery, event: Event, span: trace.Span) -> str:
        """Run the event's handler (if any) with the position or inbox update in one transaction;
        returns the outcome or raises (_Gap, PositionConflict, the handler's error)."""
        sub = self._subscriptions[delivery.source].get(event.type)
        if sub is not None and event.version not in sub.versions:
            raise UnknownVersion(
                f"{event.type} v{event.version} is not a version this consumer understands "
                f"({', '.join(f'v{v}' for v in sorted(sub.versions))})"
            )
        if ordering.is_sequenced(event) and ordering.applied_here(delivery.queue, event):
            return "duplicate"  # this process committed its position past it (ordering.mark_applied)
        started = time.perf_counter()
        try:
            with transaction(self._session_factory) as session:
                if ordering.is_sequenced(event):
                    outcome = self._apply_in_order(session, delivery, event, sub)
                else:
                    outcome = self._apply_once(session, delivery, event, sub)
        except _Duplicate:
            return "duplicate"
        finally:
            EVENT_HANDLER_SECONDS.labels(delivery.queue).observe(time.perf_counter() - started)
        return outcome

    def _apply_in_order(
        self, session: Session, delivery: _Delivery, event: Event, sub: _Subscription | None
    ) -> str:
        assert event.aggregate_type and event.aggregate_id and event.sequence  # ordering.is_sequenced
        position = ordering.judge(session, self._positions, delivery.queue, event)
        if position.verdict is Verdict.DUPLICATE:
            raise _Duplicate
        if position.verdict is Verdict.GAP:
            self._wait_or_join(
                delivery, event, position, (event.aggregate_type, event.aggregate_id, event.sequence)
            )
        items = wire.batch_items(event)
        if items is not None:
            return self._apply_batch(session, delivery, event, items, sub, position)
        if sub is not None:
            sub.handler(session, event)
        ordering.advance(session, self._positions, delivery.queue, event, position.last)
        return "applied" if sub is not None else "skipped"

    def _apply_batch(
        self,
        session: Session,
        delivery: _Delivery,
        event: Event,
        items: list[wire.BatchItem],
        sub: _Subscription | None,
        position: ordering.Position,
    ) -> str:
        """A batch event whose own sequence is due: its items judged in one query, the handler run once
        with the fresh ones, their positions moved with the event's."""
        fresh: list[tuple[wire.BatchItem, int | None]] = []
        for item, item_position in ordering.judge_items(session, self._positions, delivery.queue, items):
            if item_position.verdict is Verdict.DUPLICATE:
                continue  # applied before: this is a redelivery, or the item's own event got here first
            if item_position.verdict is Verdict.GAP:
                self._wait_or_join(
                    delivery, event, item_position, (item.aggregate_type, item.aggregate_id, item.sequence)
                )
            fresh.append((item, item_position.last))
        if sub is not None and fresh:
            sub.handler(session, wire.with_items(event, [item for item, _last in fresh]))
        ordering.advance_items(session, self._positions, delivery.queue, fresh)
        ordering.advance(session, self._positions, delivery.queue, event, position.last)
        return "applied" if sub is not None and fresh else "skipped"

    def _wait_or_join(
        self,
        delivery: _Delivery,
        event: Event,
        position: ordering.Position,
        aggregate: tuple[str, str, int],
    ) -> None:
        """A gap before `aggregate`'s sequence: raise _Gap (the event waits), unless the consumer never
        saw the aggregate and waited out the gap timeout (it joined mid-stream: apply from here)."""
        gap_since = _gap_since(delivery.headers)
        if position.last is not None or _seconds_since(gap_since) < self._gap_timeout:
            raise _Gap(position, gap_since, aggregate)
        log.warning(
            "no earlier event of %s/%s arrived within %ss; applying from sequence %s (joined mid-stream)",
            aggregate[0],
            aggregate[1],
            self._gap_timeout,
            aggregate[2],
            extra={"event_id": event.id, "queue": delivery.queue},
        )

    def _apply_once(
        self, session: Session, delivery: _Delivery, event: Event, sub: _Subscription | None
    ) -> str:
        if sub is None:
            return "skipped"
        try:
            session.execute(
                insert(self._inbox).values(
                    consumer=delivery.queue, event_id=event.id, processed_at=datetime.now(UTC)
                )
            )
        except IntegrityError:
            raise _Duplicate from None
        sub.handler(session, event)
        return "applied"

    def _after_gap(
        self, delivery: _Delivery, event: Event | None, gap: _Gap, extra: dict[str, Any]
    ) -> _SetAside:
        assert event is not None
        aggregate_type, aggregate_id, sequence = gap.aggregate
        missing = gap.position.missing(sequence)
        waited = _seconds_since(gap.gap_since)
        if waited < self._gap_timeout:
            headers = _copy_headers(delivery.headers)
            headers[topology.GAP_SINCE_HEADER] = gap.gap_since.isoformat()
            log.info("event waits for sequence %s of its aggregate", missing, extra=extra)
            return _SetAside(
                topology.retry_queue_name(delivery.queue, self._gap_recheck), "deferred", headers
            )
        reason = f"gap: sequence {missing} of {aggregate_type}/{aggregate_id} missing after {waited:.0f}s"
        return self._park(delivery, reason, extra)

    def _after_failure(
        self,
        delivery: _Delivery,
        event: Event | None,
        error: Exception,
        fault: Fault,
        extra: dict[str, Any],
    ) -> _SetAside:
        error_text = f"{type(error).__name__}: {error}"[:_MAX_ERROR_TEXT]
        if fault is Fault.POISON:
            log.error("poison event dead-lettered: %s", error_text, extra=extra)
            return self._park(delivery, f"poison: {error_text}", extra, error_text)
        attempt = delivery.attempt
        if attempt < len(self._retry_delays):
            delay = self._retry_delays[attempt]
            log.warning("event failed, retrying in %ss: %s", delay, error, extra=extra, exc_info=error)
            headers = _copy_headers(delivery.headers)
            headers.pop(topology.GAP_SINCE_HEADER, None)
            headers[topology.ATTEMPT_HEADER] = attempt + 1
            headers[topology.ERROR_HEADER] = error_text
            return _SetAside(topology.retry_queue_name(delivery.queue, delay), "retried", headers)
        log.error("event failed %d times, dead-lettered: %s", attempt + 1, error, extra=extra, exc_info=error)
        return self._park(delivery, f"retries exhausted: {error_text}", extra, error_text)

    def _park(
        self, delivery: _Delivery, reason: str, extra: dict[str, Any], error_text: str | None = None
    ) -> _SetAside:
        headers = _copy_headers(delivery.headers)
        headers.pop(topology.GAP_SINCE_HEADER, None)
        headers[topology.ATTEMPT_HEADER] = delivery.attempt + 1
        headers[topology.REASON_HEADER] = reason[:_MAX_ERROR_TEXT]
        headers[topology.ERROR_HEADER] = error_text or reason[:_MAX_ERROR_TEXT]
        headers[topology.FAILED_AT_HEADER] = datetime.now(UTC).isoformat()
        log.error("event parked in the dead-letter queue: %s", reason, extra=extra)
        return _SetAside(topology.dlq_name(delivery.queue), "dead_lettered", headers)

    def _answer(self, delivery: _Delivery, set_aside: _SetAside | None) -> None:
        """Ack on the connection's thread, after publishing the set-aside copy (confirmed) if any."""

        def answer() -> None:
            if set_aside is not None:
                properties = copy.copy(delivery.properties)
                properties.headers = set_aside.headers
                properties.delivery_mode = wire.PERSISTENT
                delivery.publisher.basic_publish(
                    "", set_aside.target, delivery.body, properties, mandatory=True
                )
            delivery.channel.basic_ack(delivery.delivery_tag)

        try:
            delivery.connection.add_callback_threadsafe(answer)
        except (pika.exceptions.ConnectionWrongStateError, pika.exceptions.AMQPConnectionError, OSError):
            # The connection is gone; the broker redelivers the message and positions make that harmless.
            log.info("connection closed before the answer went out; the event will be redelivered")


def set_aside_delays(
    retry_delays: list[float] | None = None, gap_recheck_delay: float | None = None
) -> list[float]:
    """The delays of the retry queues a consumer needs (from the settings unless given), so that
    `migrate` declares the same topology the consumer will."""
    retries = RETRY_DELAYS.get() if retry_delays is None else retry_delays
    recheck = GAP_RECHECK_DELAY.get() if gap_recheck_delay is None else gap_recheck_delay
    return sorted({*retries, recheck})


def _items_or_none(event: Event) -> list[wire.BatchItem] | None:
    """A batch event's items, for holding their places; None for another event or a malformed batch
    (parked for what it is: there is no item to hold a place for)."""
    try:
        return wire.batch_items(event)
    except wire.MalformedEvent:
        return None


def _inbox_and_positions(tables: MessagingTables | Table) -> tuple[Table, Table]:
    if isinstance(tables, MessagingTables):
        return tables.inbox, tables.positions
    positions = tables.metadata.tables.get(POSITIONS)
    if positions is None:
        raise ValueError(f"{POSITIONS} is not in the inbox table's metadata; use messaging_tables()")
    return tables, positions


def _ordering_key(headers: dict[str, Any], properties: pika.BasicProperties, method: Basic.Deliver) -> str:
    """Messages of one aggregate share a worker thread; others spread over all of them."""
    aggregate_id = wire.header_text(headers, wire.AGGREGATE_ID_HEADER)
    if aggregate_id is not None:
        return f"{wire.header_text(headers, wire.AGGREGATE_TYPE_HEADER)}/{aggregate_id}"
    return properties.message_id or str(method.delivery_tag)


# Set by the broker on this copy (its dead-lettering, its deliveries), not part of the event.
_BROKER_HEADERS = ("x-death", "x-first-death-", "x-last-death-", "x-delivery-count")


def _copy_headers(headers: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in headers.items() if not k.startswith(_BROKER_HEADERS)}


def _gap_since(headers: dict[str, Any]) -> datetime:
    raw = wire.header_text(headers, topology.GAP_SINCE_HEADER)
    if raw:
        try:
            parsed = datetime.fromisoformat(raw)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass  # a mangled header restarts the wait rather than failing the event
    return datetime.now(UTC)


def _seconds_since(moment: datetime) -> float:
    return (datetime.now(UTC) - moment).total_seconds()
