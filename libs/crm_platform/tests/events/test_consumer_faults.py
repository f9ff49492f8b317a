"""Consumer faults told apart: poison events straight to the DLQ (and back after a fix), a database
outage waited out without spending the retry budget, a slow handler that cannot starve the heartbeat."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from crm_platform.db import make_engine, make_session_factory
from crm_platform.events import Event, EventConsumer, PoisonEvent, wire
from crm_platform.events.dlq import list_parked, replay
from crm_platform.metrics import EVENTS_CONSUMED

DELAYS = [0.1, 0.2]


def _consumer(db, url: str, factory=None, **kwargs) -> EventConsumer:
    kwargs.setdefault("gap_timeout", 2.0)
    kwargs.setdefault("gap_recheck_delay", 0.1)
    return EventConsumer(
        url, factory or db.factory, db.tables, service="sales", retry_delays=DELAYS, **kwargs
    )


def _effect(db, session, event: Event) -> None:
    session.execute(insert(db.effects).values(id=str(uuid.uuid4()), event_id=event.id))


def test_poison_event_is_parked_within_a_second_and_replays_after_the_fix(db, broker, run_consumer, wait_for):
    fixed = False

    def handler(session, event: Event) -> None:
        if not fixed and "email" not in event.data:
            raise PoisonEvent("contact_created without email")
        _effect(db, session, event)

    consumer = _consumer(db, broker.url)
    queue = consumer.subscribe("contacts", "contact_created", handler)
    run_consumer(consumer)
    started = time.monotonic()
    event_id = broker.publish_event("contacts", "contact_created", {"name": "no email"})
    wait_for(lambda: broker.count(queue + ".dlq") == 1, timeout=1, what="the poison event parked")
    assert time.monotonic() - started < 1
    [parked] = list_parked(broker.url, queue)
    assert parked.event_id == event_id
    assert parked.reason == "poison: PoisonEvent: contact_created without email"
    assert parked.attempts == "1"
    assert parked.failed_at
    assert broker.count(queue + ".retry.100") == 0

    fixed = True
    assert replay(broker.url, queue) == 1
    wait_for(lambda: db.count(db.effects) == 1, what="the replayed event applied")
    assert broker.count(queue + ".dlq") == 0


def test_an_unknown_version_is_poison(db, broker, run_consumer, wait_for):
    consumer = _consumer(db, broker.url)
    queue = consumer.subscribe("contacts", "contact_created", lambda s, e: _effect(db, s, e), versions={1})
    run_consumer(consumer)
    event_id = str(uuid.uuid4())
    headers = wire.cloudevent_headers(
        event_id=event_id,
        event_type="contact_created",
        service="contacts",
        time=datetime.now(UTC),
        version=2,
        aggregate_type="contact",
        aggregate_id=event_id,
        sequence=1,
    )
    broker.publish_raw(
        "contacts.events",
        "contact_created",
        json.dumps({}).encode(),
        wire.message_properties(event_id, headers),
    )
    wait_for(lambda: broker.count(queue + ".dlq") == 1, timeout=1, what="the v2 event parked")
    [parked] = list_parked(broker.url, queue)
    assert "contact_created v2 is not a version this consumer understands (v1)" in parked.reason
    assert db.count(db.effects) == 0


class _TcpProxy:
    """A TCP forwarder the test can cut (every connection dropped, new ones refused) and restore."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._up = threading.Event()
        self._up.set()
        self._closing = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def cut(self) -> None:
        self._up.clear()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._sockets.clear()

    def restore(self) -> None:
        self._up.set()

    def close(self) -> None:
        self._closing.set()
        self.cut()
        self._thread.join(2)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            if not self._up.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Outage:
    def __init__(self) -> None:
        self.down = threading.Event()


@contextlib.contextmanager
def _database_we_can_cut(database_url: str) -> Iterator[tuple[object, callable, callable]]:
    """(session factory, cut, restore) for the same database. PostgreSQL goes through a TCP proxy that
    drops every connection; SQLite (a file, no server) gets connections that fail to open while cut,
    as a full disk or a lost volume would."""
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql":
        proxy = _TcpProxy((url.host or "127.0.0.1", url.port or 5432))
        engine = make_engine(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
        try:
            yield make_session_factory(engine), proxy.cut, proxy.restore
        finally:
            engine.dispose()
            proxy.close()
        return
    outage = _Outage()
    path = url.database

    def connect() -> sqlite3.Connection:
        if outage.down.is_set():
            raise sqlite3.OperationalError("unable to open database file")
        connection = sqlite3.connect(path, check_same_thread=False, timeout=30)
        connection.isolation_level = None
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)

    from sqlalchemy import event as sa_event

    sa_event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    try:
        yield make_session_factory(engine), outage.down.set, outage.down.clear
    finally:
        engine.dispose()


def test_a_database_outage_spends_no_retry_budget_and_parks_nothing(
    db, broker, run_consumer, wait_for, database_url
):
    with _database_we_can_cut(database_url) as (factory, cut, restore):
        consumer = _consumer(db, broker.url, factory=factory, transient_backoff=(0.05, 0.2))
        queue = consumer.subscribe("contacts", "contact_created", lambda s, e: _effect(db, s, e))
        run_consumer(consumer)
        broker.publish_event("contacts", "contact_created", {"n": 0})
        wait_for(lambda: db.count(db.effects) == 1, what="the first event, database up")
        transient_before = EVENTS_CONSUMED.labels(queue, "contact_created", "transient")._value.get()

        cut()
        for n in range(1, 6):
            broker.publish_event("contacts", "contact_created", {"n": n})
        # Longer than all retry delays together: with a budget spent on the outage they would be parked.
        wait_for(
            lambda: (
                EVENTS_CONSUMED.labels(queue, "contact_created", "transient")._value.get()
                > transient_before + 5
            ),
            what="handlers to meet the outage",
        )
        time.sleep(sum(DELAYS) + 0.5)
        assert db.count(db.effects) == 1
        restore()

        wait_for(lambda: db.count(db.effects) == 6, timeout=15, what="every event once the database is back")
        assert broker.count(queue + ".dlq") == 0
        for delay in ("100", "200"):
            assert broker.count(f"{queue}.retry.{delay}") == 0
        time.sleep(0.3)
        assert db.count(db.effects) == 6


# The database plays no part in what this checks; SQLite alone keeps the suite quick.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_handler_slower_than_the_heartbeat_keeps_the_connection(db, broker, run_consumer, wait_for, caplog):
    url = broker.url + ("&" if "?" in broker.url else "?") + "heartbeat=1"

    def slow(session, event: Event) -> None:
        time.sleep(4)  # several heartbeat intervals: inline, the broker would drop us
        _effect(db, session, event)

    consumer = _consumer(db, url, workers=4)
    queue = consumer.subscribe("contacts", "contact_created", slow)
    with caplog.at_level(logging.WARNING, logger="crm_platform.events.consumer"):
        run_consumer(consumer)
        for _ in range(4):
            broker.publish_event("contacts", "contact_created", {})
        wait_for(lambda: db.count(db.effects) == 4, timeout=15, what="all four slow events")
        time.sleep(0.5)
    assert broker.count(queue) == 0
    assert db.count(db.effects) == 4
    assert not [r for r in caplog.records if "lost RabbitMQ" in r.getMessage() or "failed" in r.getMessage()]
