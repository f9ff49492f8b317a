"""Consumer positions: an aggregate's events applied once and in sequence, whatever order they arrive in."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter

import pytest
from sqlalchemy import insert, select

from crm_platform.events import Event, EventConsumer
from crm_platform.metrics import EVENTS_CONSUMED

DELAYS = [0.1, 0.2]


def _consumer(db, url: str, **kwargs) -> EventConsumer:
    kwargs.setdefault("gap_timeout", 1.0)
    kwargs.setdefault("gap_recheck_delay", 0.1)
    return EventConsumer(url, db.factory, db.tables, service="sales", retry_delays=DELAYS, **kwargs)


def _recorder() -> tuple[list[tuple[str, int]], callable]:
    applied: list[tuple[str, int]] = []
    lock = threading.Lock()

    def handler(session, event: Event) -> None:
        with lock:
            applied.append((event.aggregate_id, event.sequence))

    return applied, handler


def _position(db, aggregate_id: str) -> int | None:
    positions = db.tables.positions
    with db.engine.connect() as conn:
        return conn.execute(
            select(positions.c.last_sequence).where(positions.c.aggregate_id == aggregate_id)
        ).scalar_one_or_none()


def _consumed(queue: str, event_type: str, outcome: str) -> float:
    return EVENTS_CONSUMED.labels(queue, event_type, outcome)._value.get()


def test_events_of_an_aggregate_apply_in_sequence_whatever_the_arrival_order(
    db, broker, run_consumer, wait_for
):
    applied, handler = _recorder()
    consumer = _consumer(db, broker.url)
    queue = consumer.subscribe("contacts", "contact_updated", handler)
    run_consumer(consumer)
    deferred_before = _consumed(queue, "contact_updated", "deferred")
    for sequence in (3, 1, 2):
        broker.publish_event("contacts", "contact_updated", {}, aggregate_id="a", sequence=sequence)
    wait_for(lambda: _position(db, "a") == 3, what="all three applied")
    assert applied == [("a", 1), ("a", 2), ("a", 3)]
    assert _consumed(queue, "contact_updated", "deferred") > deferred_before  # 3 waited for 1 and 2

    duplicates_before = _consumed(queue, "contact_updated", "duplicate")
    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="a", sequence=2)  # stale copy
    wait_for(lambda: _consumed(queue, "contact_updated", "duplicate") == duplicates_before + 1)
    assert applied == [("a", 1), ("a", 2), ("a", 3)]


def test_event_types_without_handler_move_the_position_on(db, broker, run_consumer, wait_for):
    applied, handler = _recorder()
    consumer = _consumer(db, broker.url, gap_timeout=30)
    queue = consumer.subscribe("contacts", "contact_created", handler)
    run_consumer(consumer)
    skipped_before = _consumed(queue, "contact_renamed", "skipped")
    broker.publish_event("contacts", "contact_created", {}, aggregate_id="b", sequence=1)
    broker.publish_event("contacts", "contact_renamed", {}, aggregate_id="b", sequence=2)
    broker.publish_event("contacts", "contact_created", {}, aggregate_id="b", sequence=3)
    # Well within the gap timeout: sequence 3 did not wait for a 2 that was skipped.
    wait_for(lambda: _position(db, "b") == 3, timeout=5, what="the position past the unhandled type")
    assert applied == [("b", 1), ("b", 3)]
    # Counted once the transaction has committed, so a moment after the position shows.
    wait_for(
        lambda: _consumed(queue, "contact_renamed", "skipped") == skipped_before + 1,
        timeout=5,
        what="the count",
    )
    assert broker.count(queue) == 0


def test_a_gap_that_never_fills_parks_the_event_naming_what_is_missing(db, broker, run_consumer, wait_for):
    applied, handler = _recorder()
    consumer = _consumer(db, broker.url)
    queue = consumer.subscribe("contacts", "contact_updated", handler)
    run_consumer(consumer)
    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="c", sequence=1)
    wait_for(lambda: _position(db, "c") == 1)
    started = time.monotonic()
    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="c", sequence=4)
    wait_for(lambda: broker.count(queue + ".dlq") == 1, timeout=5, what="the event parked")
    assert time.monotonic() - started >= 1.0  # it waited for the gap timeout first
    [(parked, _body)] = broker.take_all(queue + ".dlq")
    assert parked.headers["x-crm-reason"].startswith("gap: sequence 2..3 of contact/c missing")
    assert "x-crm-gap-since" not in parked.headers
    assert applied == [("c", 1)]
    assert _position(db, "c") == 1


def test_a_consumer_joining_mid_stream_applies_after_the_gap_timeout(db, broker, run_consumer, wait_for):
    applied, handler = _recorder()
    consumer = _consumer(db, broker.url)
    queue = consumer.subscribe("contacts", "contact_updated", handler)
    run_consumer(consumer)
    started = time.monotonic()
    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="d", sequence=7)
    wait_for(lambda: _position(db, "d") == 7, timeout=5, what="the first event seen to apply")
    assert time.monotonic() - started >= 1.0
    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="d", sequence=8)
    wait_for(lambda: _position(db, "d") == 8, timeout=1, what="its successor, at once")
    assert applied == [("d", 7), ("d", 8)]
    assert broker.count(queue + ".dlq") == 0


def test_a_retried_event_is_not_overtaken_by_its_successors(db, broker, run_consumer, wait_for):
    applied, record = _recorder()
    failures = {"left": 2}

    def flaky(session, event: Event) -> None:
        if event.sequence == 1 and failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("bug that heals")
        record(session, event)

    consumer = _consumer(db, broker.url)
    consumer.subscribe("contacts", "contact_updated", flaky)
    run_consumer(consumer)
    for sequence in (1, 2, 3):
        broker.publish_event("contacts", "contact_updated", {}, aggregate_id="e", sequence=sequence)
    wait_for(lambda: _position(db, "e") == 3, timeout=5, what="all applied")
    assert applied == [("e", 1), ("e", 2), ("e", 3)]


def _effect_recorder(db) -> callable:
    """A handler whose effect is a row written in the consumer's transaction, so only applies that
    commit count (a replica that loses the position's compare-and-set runs the handler and rolls back).
    Order is checked in the same transaction: applying n while n-1 is not committed leaves a marker row."""
    effects = db.effects

    def handler(session, event: Event) -> None:
        key = f"{event.aggregate_id}/{event.sequence}"
        if event.sequence > 1:
            before = f"{event.aggregate_id}/{event.sequence - 1}"
            if session.execute(select(effects.c.id).where(effects.c.event_id == before)).first() is None:
                session.execute(insert(effects).values(id=str(uuid.uuid4()), event_id=f"out of order {key}"))
        session.execute(insert(effects).values(id=str(uuid.uuid4()), event_id=key))

    return handler


@pytest.mark.parametrize("replicas", [2])
def test_two_replicas_apply_each_event_once_in_order(db, broker, run_consumer, wait_for, replicas):
    handler = _effect_recorder(db)
    consumers = [_consumer(db, broker.url, workers=3) for _ in range(replicas)]
    for consumer in consumers:
        consumer.subscribe("contacts", "contact_updated", handler)
        run_consumer(consumer)
    aggregates = [f"agg-{i}" for i in range(5)]
    for sequence in range(1, 11):
        for aggregate in aggregates:
            broker.publish_event("contacts", "contact_updated", {}, aggregate_id=aggregate, sequence=sequence)
    # Redelivered copies, as after a crash, must change nothing.
    for aggregate in aggregates:
        broker.publish_event("contacts", "contact_updated", {}, aggregate_id=aggregate, sequence=5)
    wait_for(lambda: all(_position(db, a) == 10 for a in aggregates), timeout=20, what="all applied")
    time.sleep(0.3)
    with db.engine.connect() as conn:
        applied = Counter(conn.execute(select(db.effects.c.event_id)).scalars())
    assert applied == Counter({f"{a}/{s}": 1 for a in aggregates for s in range(1, 11)})
