"""Transactional outbox: record events with the business change, relay them to RabbitMQ afterwards.

`record_event` only inserts a row in the caller's transaction, so an event exists exactly when the change
it announces was committed. `OutboxRelay` is a background thread that publishes committed rows with
publisher confirms and marks them only once the broker has them: delivery is at least once (a crash
between confirm and mark republishes), and consumers dedupe by event id.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pika.exceptions
from opentelemetry import propagate, trace
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy import Connection, Engine, Row, Select, Table, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from crm_platform.db import is_sqlite
from crm_platform.events import amqp, wire
from crm_platform.events.schema import MessagingTables

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

# session.info key: set by record_event, consumed by the after_commit hook install_wakeup adds.
_RECORDED = "crm_platform.events.recorded"
_TRACE_HEADERS = ("traceparent", "tracestate")
_MAX_ERROR_TEXT = 2000


def record_event(
    session: Session,
    tables: MessagingTables,
    *,
    source: str,
    event_type: str,
    aggregate_type: str,
    aggregate_id: str,
    payload: dict[str, Any],
    version: int = 1,
) -> str:
    """Add an event to the outbox in `session`'s transaction and return its id.

    The event is about one aggregate (`aggregate_type` `contact`, `aggregate_id` its id) and gets that
    aggregate's next `sequence` number. Allocating it locks the aggregate's sequence row until commit, so
    two transactions about the same aggregate number their events in the order they commit.

    `source` is the publishing service's name (`contacts`): it names the exchange (`contacts.events`)
    and the CloudEvents source (`crm/contacts`). The current trace context is stored with the row so the
    relay's publish span, and everything downstream, joins the trace of the request that caused it.

    `version` only labels the payload schema (`ce-dataschema`); subscribers bind by event type alone.
    A breaking v2 published beside v1 therefore needs its own type (`contact_created_v2`), or every v1
    subscriber would receive both.
    """
    event_id = str(uuid.uuid4())
    body = wire.encode_payload(payload)
    sequence = next_sequence(session, tables.sequences, aggregate_type, aggregate_id)
    now = datetime.now(UTC)  # after the sequence lock, so created_at follows sequence order
    headers: dict[str, str] = wire.cloudevent_headers(
        event_id=event_id,
        event_type=event_type,
        service=source,
        time=now,
        version=version,
        aggregate_type=aggregate_type,
        aggregate_id=aggregate_id,
        sequence=sequence,
    )
    propagate.inject(headers)
    session.execute(
        insert(tables.outbox).values(
            id=event_id,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            sequence=sequence,
            exchange=wire.exchange_name(source),
            routing_key=event_type,
            payload=body,
            headers=json.dumps(headers),
            created_at=now,
            attempts=0,
        )
    )
    session.info[_RECORDED] = True
    log.debug("event recorded", extra={"event_id": event_id, "event_type": event_type})
    return event_id


def next_sequence(session: Session, sequences: Table, aggregate_type: str, aggregate_id: str) -> int:
    """Allocate the aggregate's next event sequence number (1 for its first event) in `session`'s
    transaction; the upsert holds the row lock until commit."""
    dialect = session.get_bind().dialect.name
    upsert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect](sequences)
    statement = (
        upsert.values(aggregate_type=aggregate_type, aggregate_id=aggregate_id, last_sequence=1)
        .on_conflict_do_update(
            index_elements=[sequences.c.aggregate_type, sequences.c.aggregate_id],
            set_={"last_sequence": sequences.c.last_sequence + 1},
        )
        .returning(sequences.c.last_sequence)
    )
    return int(session.execute(statement).scalar_one())


def install_wakeup(target: Any, relay: OutboxRelay) -> None:
    """Wake `relay` right after a commit of a session (from `target`, a sessionmaker or Session class)
    that recorded events, so events leave within milliseconds instead of at the next sweep.

    Only works within one process; a relay elsewhere still finds the rows at its next sweep.
    """

    def after_commit(session: Session) -> None:
        if session.info.pop(_RECORDED, False):
            relay.wake()

    def after_rollback(session: Session) -> None:
        session.info.pop(_RECORDED, None)

    sa_event.listen(target, "after_commit", after_commit)
    sa_event.listen(target, "after_rollback", after_rollback)


class OutboxRelay:
    """Publishes committed outbox rows, oldest first, from a daemon thread with its own connection."""

    def __init__(
        self,
        engine: Engine,
        outbox_table: Table,
        amqp_url: str,
        *,
        sweep_interval: float = 1.0,
        batch_size: int = 100,
    ) -> None:
        self._engine = engine
        self._outbox = outbox_table
        self._amqp_url = amqp_url
        self._sweep_interval = sweep_interval
        self._batch_size = batch_size
        self._wakeup = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._backoff = amqp.Backoff()

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="outbox-relay", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to finish its current batch and close its connection; wait up to `timeout`."""
        self._stopping.set()
        self._wakeup.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wakeup.set()

    # --- the thread ----------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                connection = amqp.connect(self._amqp_url, "outbox-relay")
            except amqp.CONNECTION_ERRORS as exc:
                self._note_unreachable(exc)
                self._stopping.wait(self._backoff.next_delay())
                continue
            try:
                channel = connection.channel()
                channel.confirm_delivery()
                self._backoff.reset()
                log.info("outbox relay connected to RabbitMQ")
                self._relay_until_stopped(connection, channel)
            except amqp.CONNECTION_ERRORS as exc:
                log.warning("outbox relay lost its RabbitMQ connection: %s", exc)
            except SQLAlchemyError as exc:
                log.warning("outbox relay database error: %s", exc)
            except Exception:
                # The relay must outlive any surprise; the rows stay in the outbox until it succeeds.
                log.exception("outbox relay failed unexpectedly")
            finally:
                amqp.close_quietly(connection)
            if not self._stopping.is_set():
                self._stopping.wait(self._backoff.next_delay())

    def _relay_until_stopped(self, connection: Any, channel: BlockingChannel) -> None:
        declared: set[str] = set()
        while not self._stopping.is_set():
            self._wakeup.clear()
            if self._relay_batch(channel, declared) >= self._batch_size:
                continue  # probably more waiting behind a full batch
            self._idle(connection)

    def _idle(self, connection: Any) -> None:
        # Sleep until woken or the sweep is due, but keep pika serviced (heartbeats, noticing a
        # closed connection) at least every second.
        deadline = time.monotonic() + self._sweep_interval
        while not self._wakeup.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._wakeup.wait(min(remaining, 1.0))
            connection.process_data_events(time_limit=0)

    def _claim_query(self) -> Select[Any]:
        query = (
            select(self._outbox)
            .where(self._outbox.c.published_at.is_(None), self._outbox.c.parked_at.is_(None))
            .order_by(self._outbox.c.position)
            .limit(self._batch_size)
        )
        if is_sqlite(self._engine):
            return query
        # Row locks held until this batch is marked: another replica's relay skips these rows instead
        # of publishing them a second time.
        return query.with_for_update(skip_locked=True)

    def _relay_batch(self, channel: BlockingChannel, declared: set[str]) -> int:
        """Publish one batch; return how many rows were published and marked."""
        with self._engine.connect() as conn:
            rows = conn.execute(self._claim_query()).all()
            if not rows:
                return 0
            if is_sqlite(self._engine):
                # SQLite has one write lock for the whole file; don't hold it while awaiting confirms.
                conn.commit()
            published: list[str] = []
            failed: dict[str, BaseException] = {}
            lost: BaseException | None = None
            for row in rows:
                try:
                    self._publish(channel, row, declared)
                except pika.exceptions.NackError as exc:
                    failed[row.id] = exc  # the broker refused this one; the channel is still fine
                    continue
                except amqp.CONNECTION_ERRORS as exc:
                    failed[row.id] = exc
                    lost = exc
                    break
                except Exception as exc:
                    log.exception("cannot publish outbox row", extra=_row_extra(row))
                    failed[row.id] = exc
                    continue
                published.append(row.id)
            self._mark(conn, published, failed)
            conn.commit()
        if lost is not None:
            raise lost
        return len(published)

    def _publish(self, channel: BlockingChannel, row: Row[Any], declared: set[str]) -> None:
        headers: dict[str, Any] = json.loads(row.headers)
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
            if row.exchange not in declared:
                wire.declare_exchange(channel, row.exchange)
                declared.add(row.exchange)
            channel.basic_publish(
                row.exchange,
                row.routing_key,
                row.payload.encode("utf-8"),
                wire.message_properties(row.id, headers),
            )
        log.debug("event published", extra=_row_extra(row))

    def _mark(self, conn: Connection, published: Sequence[str], failed: dict[str, BaseException]) -> None:
        outbox = self._outbox
        if published:
            conn.execute(
                update(outbox)
                .where(outbox.c.id.in_(published))
                .values(published_at=datetime.now(UTC), attempts=outbox.c.attempts + 1, last_error=None)
            )
        for row_id, exc in failed.items():
            conn.execute(
                update(outbox)
                .where(outbox.c.id == row_id)
                .values(attempts=outbox.c.attempts + 1, last_error=_describe(exc))
            )

    def _note_unreachable(self, exc: BaseException) -> None:
        """Log a failed connect and note it on the rows that are waiting, for operators to see."""
        log.warning("outbox relay cannot reach RabbitMQ (attempt %d): %s", self._backoff.failures + 1, exc)
        try:
            with self._engine.connect() as conn:
                ids = [row.id for row in conn.execute(self._claim_query())]
                self._mark(conn, [], dict.fromkeys(ids, exc))
                conn.commit()
        except SQLAlchemyError as db_exc:
            log.warning("outbox relay database error: %s", db_exc)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_MAX_ERROR_TEXT]


def _row_extra(row: Row[Any]) -> dict[str, str]:
    return {"event_id": row.id, "event_type": row.routing_key}
