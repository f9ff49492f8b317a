"""The outbox relay: the one process per database that publishes committed outbox rows to RabbitMQ.

Every process runs an `OutboxRelay` thread, but only the holder of the relay lease (`lease.py`) publishes;
the others check the lease about every second and take over within TTL + ~1 s when the holder dies.

The holder polls the outbox every `CRM_RELAY_POLL_INTERVAL` (10 ms; the query is an index range scan on the
partial index of pending rows) while events flow, and a commit that recorded events in any process wakes it
at once through the doorbell (`doorbell.py`: NOTIFY on PostgreSQL, a datagram on SQLite); polling stays
because a ring is only a hint (lost when it arrives while the doorbell changes hands, or absent behind
PgBouncer without `CRM_RELAY_LISTEN_URL`). So the fast polls are for events that arrive unannounced: when
the rows a poll finds were rung for, each empty poll after them doubles the wait at once (a ring cuts any
wait short); during an import, whose chunks each ring, polling every 10 ms was a fifth of a CPU on the
process holding the lease. Once the outbox has had nothing new for
a second, each empty poll doubles the wait, up to `CRM_RELAY_IDLE_POLL_INTERVAL` (250 ms); measured by time,
not by empty polls, because a writer that stalls for a few tens of milliseconds (SQLite's lock, a
checkpoint) under steady traffic would otherwise send the relay into a long wait just as events resume. The
back-off exists because a poll costs a fraction of a millisecond of CPU, and five idle services polling 100
times a second were measured to cost a 2-core machine a sixth of its customer-360 throughput. The first
event after a quiet spell may therefore wait up to the idle interval when it was committed in another
process and the doorbell was not heard; otherwise the ring cuts it short, and under load the relay never
leaves the fast interval.

Each cycle it collects the confirms that arrived, takes the due rows (at most one per aggregate, see
`relay_store`) that are not already on their way, and sends them with `mandatory` (`publisher.py`)
without waiting for their confirms: the next cycle starts at once. Confirmed ids go to the marker thread
(`relay_marker.py`), which marks them in one UPDATE per drain. So neither the broker's fsync behind a
confirm nor the database's commit behind the marking sits between an event's commit and its publishing;
measured, waiting for both put a cycle at ~8 ms and the commit-to-consumed p99 near 50 ms at 500
events/s. At most `max_in_flight` messages are unconfirmed at a time.

A row that was nacked, returned as unroutable or cannot be read counts as a failed attempt: it backs off
(capped exponential) while the later rows of its aggregate wait, and after `CRM_RELAY_MAX_ATTEMPTS` it is
parked for an operator, still blocking its aggregate. Losing the broker is not the row's fault: the rows in
flight stay pending without spending attempts and go again after reconnecting, so delivery is at least
once (consumers dedupe by aggregate sequence or event id).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

from opentelemetry import propagate, trace
from sqlalchemy import Engine, Row, Table
from sqlalchemy.exc import SQLAlchemyError

from crm_platform import config
from crm_platform.events import amqp, wire
from crm_platform.events.doorbell import DoorbellListener
from crm_platform.events.lease import RelayLease
from crm_platform.events.publisher import Message, Outcome, PublisherUnavailable, StreamingPublisher
from crm_platform.events.relay_marker import PublishedMarker
from crm_platform.events.relay_store import (
    Failure,
    OutboxBacklog,
    RetryPolicy,
    due_rows,
    note_failures,
    outbox_backlog,
)
from crm_platform.events.schema import LEASE, RELAY_LEASE_NAME, MessagingTables
from crm_platform.metrics import EVENTS_PARKED, EVENTS_PUBLISH_FAILURES, EVENTS_PUBLISHED

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

__all__ = ["OutboxBacklog", "OutboxRelay", "outbox_backlog"]

RELAY_POLL_INTERVAL = config.Setting(
    "CRM_RELAY_POLL_INTERVAL",
    config.as_float,
    default="0.01",
    help="seconds between the lease holder's outbox polls when idle (bounds commit-to-publish latency)",
)
RELAY_IDLE_POLL_INTERVAL = config.Setting(
    "CRM_RELAY_IDLE_POLL_INTERVAL",
    config.as_float,
    default="0.25",
    help="longest wait between the lease holder's polls after the outbox has been empty for a while",
)
RELAY_LEASE_TTL = config.Setting(
    "CRM_RELAY_LEASE_TTL",
    config.as_float,
    default="10",
    help="seconds a relay lease lasts unless renewed; a dead holder is replaced within about TTL + 1 s",
)
RELAY_MAX_ATTEMPTS = config.Setting(
    "CRM_RELAY_MAX_ATTEMPTS",
    config.positive_int,
    default="12",
    help="failed publish attempts (nacked, unroutable, unreadable) before an outbox row is parked",
)
RELAY_RETRY_MAX_DELAY = config.Setting(
    "CRM_RELAY_RETRY_MAX_DELAY",
    config.as_float,
    default="300",
    help="cap in seconds of the exponential back-off between publish attempts of one outbox row",
)

_TRACE_HEADERS = ("traceparent", "tracestate")
# How long a cycle may take before the relay counts as stuck (confirm waits are bounded by TTL/3).
_STALE_AFTER = 60.0
_DATABASE_RETRY_DELAY = 1.0
# Seconds without anything to publish before the holder's polls start backing off.
_QUIET_AFTER = 1.0


class OutboxRelay:
    """Publishes the outbox of one database from a daemon thread, while it holds the relay lease.

    `tables` is the service's `MessagingTables`, or (the older form) its outbox table, whose metadata
    must also hold the `relay_lease` table (`messaging_tables` adds both).
    """

    def __init__(
        self,
        engine: Engine,
        tables: MessagingTables | Table,
        amqp_url: str,
        *,
        batch_size: int = 500,
        max_in_flight: int | None = None,
        poll_interval: float | None = None,
        lease_ttl: float | None = None,
        lease_check_interval: float = 1.0,
        retry_policy: RetryPolicy | None = None,
        holder: str | None = None,
        sweep_interval: float | None = None,
    ) -> None:
        """`sweep_interval` is the older name of `poll_interval`, accepted until its callers move."""
        outbox, lease_table = _outbox_and_lease(tables)
        if poll_interval is None:
            poll_interval = sweep_interval
        self._engine = engine
        self._outbox = outbox
        self._batch_size = batch_size
        self._max_in_flight = max_in_flight or 2 * batch_size
        self._poll_interval = RELAY_POLL_INTERVAL.get() if poll_interval is None else poll_interval
        self._idle_poll_interval = max(self._poll_interval, RELAY_IDLE_POLL_INTERVAL.get())
        self._next_wait = self._poll_interval
        self._last_busy = time.monotonic()  # when a poll last found rows (or the relay was woken)
        self._rung = False  # woken by a ring since the last poll
        self._draining = False  # the last poll found rows: the next one takes what they left
        self._unannounced_at = float("-inf")  # when a poll last found rows nobody rang for
        self._lease_check_interval = lease_check_interval
        ttl = RELAY_LEASE_TTL.get() if lease_ttl is None else lease_ttl
        self._lease = RelayLease(engine, lease_table, RELAY_LEASE_NAME, ttl=ttl, holder=holder)
        self._retry = retry_policy or RetryPolicy(
            max_attempts=RELAY_MAX_ATTEMPTS.get(), max_delay=RELAY_RETRY_MAX_DELAY.get()
        )
        self._publisher = StreamingPublisher(amqp_url, "outbox-relay", confirm_timeout=ttl / 3)
        # Rows sent and not yet settled: confirmed-but-unmarked ones too, until the marker reports them.
        self._sent: dict[str, Row[Any]] = {}
        self._unsettled: set[str] = set()
        self._unsettled_lock = threading.Lock()
        self._marker = PublishedMarker(engine, outbox, self._marked)
        self._doorbell = DoorbellListener(engine, self.wake)
        self._backoff = amqp.Backoff()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._keeper: threading.Thread | None = None
        self.last_cycle_at: float | None = None  # time.monotonic() of the last loop iteration

    @property
    def holder(self) -> str:
        return self._lease.holder

    @property
    def is_holder(self) -> bool:
        return self._lease.held

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._marker.start()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()
        self._keeper = threading.Thread(target=self._keep_lease, name="outbox-lease", daemon=True)
        self._keeper.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Collect the confirms in flight, mark them, release the lease, close; wait up to `timeout`."""
        self._stopping.set()
        self._publisher.interrupt()
        if self._thread is not None:
            self._thread.join(timeout)
        self._marker.stop(timeout)

    def wake(self) -> None:
        """Publish now rather than at the next poll (thread-safe; see `install_wakeup`)."""
        self._rung = True
        self._next_wait = self._poll_interval
        self._last_busy = time.monotonic()
        self._publisher.interrupt()

    def is_alive(self, stale_after: float = _STALE_AFTER) -> bool:
        """For the worker's heartbeat: the thread runs and its loop went round within `stale_after` s."""
        return (
            self._thread is not None
            and self._thread.is_alive()
            and self._marker.is_alive()
            and self.last_cycle_at is not None
            and time.monotonic() - self.last_cycle_at < stale_after
        )

    # --- the thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self.last_cycle_at = time.monotonic()
                try:
                    self._cycle()
                except SQLAlchemyError as exc:
                    log.warning("outbox relay database error: %s", exc)
                    self._pause(_DATABASE_RETRY_DELAY)
                except Exception:
                    # The relay must outlive any surprise; the rows stay in the outbox until it succeeds.
                    log.exception("outbox relay failed unexpectedly")
                    self._disconnect()
                    self._pause(_DATABASE_RETRY_DELAY)
            self._finish_in_flight()
        finally:
            if self._keeper is not None:
                self._keeper.join()  # so that no renewal lands after the release below
            self._doorbell.close(timeout=2.0)
            self._disconnect()
            try:
                self._lease.release()
            except SQLAlchemyError as exc:
                log.warning("outbox relay could not release its lease (it expires by itself): %s", exc)

    def _keep_lease(self) -> None:
        """Renew the lease from a thread of its own while we hold it.

        A renewal is a write; on SQLite it queues for the write lock behind the request threads and its
        busy handler sleeps in steps of up to 100 ms, which, done on the relay's thread every few seconds,
        was measured to hold every event behind it for ~80 ms (bench/bench_relay.py, the latency tail).
        """
        while not self._stopping.wait(self._lease.ttl / 6):
            if not self._lease.held:
                continue  # taking the lease is the relay thread's business
            try:
                self._lease.hold()
            except SQLAlchemyError as exc:
                log.warning("outbox relay could not renew its lease (it retries): %s", exc)

    def _cycle(self) -> None:
        # The fence, checked before every send: fresh by our reckoning (the keeper renews it), or taken
        # or renewed now.
        if not (self._lease.fresh() or self._lease.hold()):
            self._disconnect()  # a non-holder needs no broker connection
            self._doorbell.close()  # nor the doorbell, which the holder binds (SQLite)
            self._pause(self._lease_check_interval)
            return
        self._doorbell.open()
        if not self._publisher.is_open and not self._connect():
            return
        self._publisher.pump(0)
        self._settle()
        room = self._max_in_flight - self._publisher.in_flight
        rung, self._rung = self._rung, False
        rows = self._due(min(self._batch_size, room)) if room > 0 and self._publisher.is_open else []
        if rows:
            if not rung and not self._draining:
                self._unannounced_at = time.monotonic()  # a ring was lost, or none rings here
            self._draining = True
            # Poll again at once: whatever was committed meanwhile is due now.
            self._send(rows)
            self._next_wait = self._poll_interval
            self._last_busy = time.monotonic()
        elif not self._stopping.is_set() and self._publisher.is_open:
            self._draining = False
            waiting_for_confirms = self._publisher.in_flight > 0
            self._publisher.pump(self._next_wait)
            now = time.monotonic()
            quiet = now - self._last_busy > _QUIET_AFTER
            announced = now - self._unannounced_at > _QUIET_AFTER  # rings have told every recent event
            if (quiet or announced) and not waiting_for_confirms:
                self._next_wait = min(self._next_wait * 2, self._idle_poll_interval)
        if not self._publisher.is_open:
            self._connection_lost()

    def _due(self, limit: int) -> list[Row[Any]]:
        with self._unsettled_lock:
            excluded = set(self._unsettled)
        rows = due_rows(self._engine, self._outbox, limit + len(excluded), datetime.now(UTC))
        return [row for row in rows if row.id not in excluded][:limit]

    def _send(self, rows: list[Row[Any]]) -> None:
        messages: list[Message] = []
        failures: list[Failure] = []
        for row in rows:
            try:
                messages.append(_message(row))
            except (ValueError, TypeError) as exc:
                log.error("outbox row cannot be read", extra=_row_extra(row), exc_info=True)
                failures.append(Failure(row, "bad_row", f"cannot read the row: {type(exc).__name__}: {exc}"))
        by_id = {row.id: row for row in rows}
        sent = self._publisher.send(messages)
        with self._unsettled_lock:
            self._unsettled.update(sent)
        self._sent.update((message_id, by_id[message_id]) for message_id in sent)
        self._note(failures)

    def _settle(self) -> None:
        """Hand the confirmed rows to the marker and count the refused ones as failed attempts."""
        confirmed: list[str] = []
        failures: list[Failure] = []
        for message_id, outcome in self._publisher.take_settled().items():
            row = self._sent.pop(message_id, None)
            if row is None:
                continue
            if outcome is Outcome.CONFIRMED:
                confirmed.append(message_id)
                EVENTS_PUBLISHED.labels(event_type=row.routing_key).inc()
            elif outcome is Outcome.NACKED:
                failures.append(Failure(row, "nacked", "NackError: the broker refused the message (nack)"))
            elif outcome is Outcome.RETURNED:
                failures.append(Failure(row, "unroutable", _unroutable(row)))
        self._marker.submit(confirmed)
        self._note(failures)

    def _note(self, failures: list[Failure]) -> None:
        if not failures:
            return
        for failure in failures:
            EVENTS_PUBLISH_FAILURES.labels(reason=failure.reason).inc()
        try:
            parked = note_failures(self._engine, self._outbox, failures, self._retry, datetime.now(UTC))
        finally:
            # Noted or not (a database error), they may be fetched again: backing off, or retried as new.
            self._forget([failure.row.id for failure in failures])
        for failure in parked:
            EVENTS_PARKED.labels(event_type=failure.row.routing_key).inc()
            log.error(
                "outbox row parked after %d failed attempts: %s",
                failure.row.attempts + 1,
                failure.error,
                extra=_row_extra(failure.row),
            )

    def _connection_lost(self) -> None:
        """The rows sent and never settled stay pending; they go again after reconnecting."""
        reason = self._publisher.closed_reason
        self._disconnect()
        EVENTS_PUBLISH_FAILURES.labels(reason="connection_lost").inc()
        log.warning("outbox relay lost its RabbitMQ connection: %s", reason)

    def _finish_in_flight(self) -> None:
        """On stop: wait (briefly) for the outstanding confirms, so their rows are marked, not resent."""
        deadline = time.monotonic() + 5.0
        while self._publisher.is_open and self._publisher.in_flight and time.monotonic() < deadline:
            self._publisher.pump(deadline - time.monotonic())
            self._settle()
        self._settle()

    def _disconnect(self) -> None:
        try:
            self._settle()  # confirms that arrived before the end still count
        except SQLAlchemyError as exc:  # failures not noted are simply tried again
            log.warning("outbox relay could not note failed attempts: %s", exc)
        self._publisher.close()
        lost = self._publisher.take_unsettled()
        for message_id in lost:
            self._sent.pop(message_id, None)
        self._forget(lost)

    def _marked(self, ids: list[str]) -> None:
        """From the marker thread: these rows are no longer pending; successors of theirs may be due."""
        self._forget(ids)
        self.wake()

    def _forget(self, ids: list[str]) -> None:
        with self._unsettled_lock:
            self._unsettled.difference_update(ids)

    def _connect(self) -> bool:
        try:
            self._publisher.connect()
        except PublisherUnavailable as exc:
            EVENTS_PUBLISH_FAILURES.labels(reason="broker_unreachable").inc()
            log.warning(
                "outbox relay cannot reach RabbitMQ (attempt %d): %s", self._backoff.failures + 1, exc
            )
            self._pause(self._backoff.next_delay())
            return False
        self._backoff.reset()
        log.info("outbox relay connected to RabbitMQ")
        return True

    def _pause(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _outbox_and_lease(tables: MessagingTables | Table) -> tuple[Table, Table]:
    if isinstance(tables, MessagingTables):
        return tables.outbox, tables.lease
    lease = tables.metadata.tables.get(LEASE)
    if lease is None:
        raise ValueError(f"{LEASE} is not in the outbox table's metadata; pass the MessagingTables instead")
    return tables, lease


def _unroutable(row: Row[Any]) -> str:
    source = row.exchange.removesuffix(".events")
    return (
        f"unroutable: no queue is bound to exchange {row.exchange} for routing key {row.routing_key}, "
        f"so no service subscribes to {source} events yet; queues and bindings are declared by "
        f"`crm-<service> migrate` of the subscribing services"
    )


def _message(row: Row[Any]) -> Message:
    """The row as an AMQP message, inside a producer span continuing the trace that recorded it."""
    headers: dict[str, Any] = json.loads(row.headers)
    if not isinstance(headers, dict):
        raise TypeError(f"headers are JSON {type(headers).__name__}, not an object")
    parent = propagate.extract(headers)
    for name in _TRACE_HEADERS:
        headers.pop(name, None)
    attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "publish",
        "messaging.destination.name": row.exchange,
        "messaging.rabbitmq.destination.routing_key": row.routing_key,
        "messaging.message.id": row.id,
    }
    with tracer.start_as_current_span(
        f"{row.exchange} publish", context=parent, kind=trace.SpanKind.PRODUCER, attributes=attributes
    ):
        propagate.inject(headers)  # consumers continue from this producer span
    return Message(
        row.id,
        row.exchange,
        row.routing_key,
        row.payload.encode("utf-8"),
        wire.message_properties(row.id, headers),
    )


def _row_extra(row: Row[Any]) -> dict[str, str]:
    return {"event_id": row.id, "event_type": row.routing_key}
