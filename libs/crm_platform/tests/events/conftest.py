"""Fixtures for the event bus tests: a service-like database, a probe on the broker, running workers.

Everything runs against the real servers: each test has its own vhost (`amqp_url`) and its own database
(`database_url`, SQLite then PostgreSQL).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pika
import pytest
from sqlalchemy import Column, Engine, MetaData, String, Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_platform.db import make_engine, make_session_factory
from crm_platform.events import EventConsumer, MessagingTables, OutboxRelay, messaging_tables, wire
from crm_platform.testing import close_connections, vhost_of

WaitFor = Callable[..., None]


def _wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def wait_for() -> WaitFor:
    return _wait_for


@dataclass
class Db:
    engine: Engine
    factory: sessionmaker[Session]
    tables: MessagingTables
    contacts: Table
    effects: Table

    def count(self, table: Table) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(table)).scalar_one()

    def outbox_rows(self) -> list[Any]:
        outbox = self.tables.outbox
        with self.engine.connect() as conn:
            return list(conn.execute(select(outbox).order_by(outbox.c.position)))

    def unpublished(self) -> int:
        return sum(1 for row in self.outbox_rows() if row.published_at is None)


@pytest.fixture
def db(database_url: str) -> Iterator[Db]:
    """A database shaped like a service's: a business table, an effects table and outbox/inbox."""
    metadata = MetaData()
    tables = messaging_tables(metadata)
    contacts = Table("contacts", metadata, Column("id", String(36), primary_key=True), Column("name", String))
    effects = Table(
        "effects", metadata, Column("id", String(36), primary_key=True), Column("event_id", String(64))
    )
    engine = make_engine(database_url)
    metadata.create_all(engine)
    try:
        yield Db(engine, make_session_factory(engine), tables, contacts, effects)
    finally:
        engine.dispose()


class Broker:
    """Test-side view of the vhost: bind probe queues, read them, publish raw messages."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connect()

    def connect(self) -> None:
        self._connection = pika.BlockingConnection(pika.URLParameters(self.url))
        self.channel = self._connection.channel()
        self.channel.confirm_delivery()

    def drop_all_connections(self) -> None:
        """Cut every connection to this vhost (ours and the code under test's), then reconnect ours."""
        close_connections(vhost_of(self.url))
        self.connect()

    def close(self) -> None:
        if self._connection.is_open:
            self._connection.close()

    def bind_probe(self, source: str, event_type: str) -> str:
        queue = f"probe.{source}.{event_type}"
        exchange = wire.exchange_name(source)
        wire.declare_exchange(self.channel, exchange)
        self.channel.queue_declare(queue, durable=True)
        self.channel.queue_bind(queue, exchange, routing_key=event_type)
        return queue

    def count(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def take_all(self, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
        taken = []
        while True:
            method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties, body))

    def publish_event(
        self,
        source: str,
        event_type: str,
        payload: dict[str, Any],
        event_id: str | None = None,
        *,
        aggregate_id: str | None = None,
        sequence: int = 1,
    ) -> str:
        """Publish as our relay would (same wire format), bypassing the outbox. Unless told otherwise
        the event is the first of its own aggregate."""
        event_id = event_id or str(uuid.uuid4())
        headers = wire.cloudevent_headers(
            event_id=event_id,
            event_type=event_type,
            service=source,
            time=datetime.now(UTC),
            version=1,
            aggregate_type="contact",
            aggregate_id=aggregate_id or event_id,
            sequence=sequence,
        )
        self.publish_raw(
            wire.exchange_name(source),
            event_type,
            json.dumps(payload).encode(),
            wire.message_properties(event_id, headers),
        )
        return event_id

    def publish_raw(
        self, exchange: str, routing_key: str, body: bytes, properties: pika.BasicProperties
    ) -> None:
        wire.declare_exchange(self.channel, exchange)
        self.channel.basic_publish(exchange, routing_key, body, properties)


@pytest.fixture
def broker(amqp_url: str) -> Iterator[Broker]:
    probe = Broker(amqp_url)
    try:
        yield probe
    finally:
        probe.close()


@pytest.fixture
def start_relay(db: Db) -> Iterator[Callable[..., OutboxRelay]]:
    """Factory starting relays on the test database; all are stopped after the test."""
    relays: list[OutboxRelay] = []

    def start(amqp_url: str, **kwargs: Any) -> OutboxRelay:
        relay = OutboxRelay(db.engine, db.tables.outbox, amqp_url, **kwargs)
        relay.start()
        relays.append(relay)
        return relay

    yield start
    for relay in relays:
        relay.stop(timeout=10)


@pytest.fixture
def run_consumer() -> Iterator[Callable[[EventConsumer], threading.Thread]]:
    """Run a consumer in a thread until the test ends; returns once its queues are bound."""
    running: list[tuple[EventConsumer, threading.Thread]] = []

    def run(consumer: EventConsumer) -> threading.Thread:
        thread = threading.Thread(target=consumer.run, name="test-consumer", daemon=True)
        thread.start()
        running.append((consumer, thread))
        assert consumer.wait_until_ready(10), "consumer did not get ready"
        return thread

    yield run
    for consumer, thread in running:
        consumer.stop()
        thread.join(10)
        assert not thread.is_alive(), "consumer.run() did not return after stop()"
