"""Batch events: one event announcing many new aggregates, recorded with a sequence per item and applied
by consumers item by item in one transaction (outbox.record_batch_event, consumer.py, ordering.py)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from crm_platform.db import transaction
from crm_platform.events import Event, EventConsumer, event_headers, record_batch_event, record_event, wire
from crm_platform.metrics import EVENTS_CONSUMED

DELAYS = [0.1, 0.2]


def _record_batch(db, batch_id: str, items: list[str], **kwargs: Any):
    with transaction(db.factory) as session:
        return record_batch_event(
            session,
            db.tables,
            source="contacts",
            event_type="contacts_imported",
            aggregate_type="contact_batch",
            aggregate_id=batch_id,
            item_aggregate_type="contact",
            items=[(item, {"contact_id": item, "n": n}) for n, item in enumerate(items)],
            **kwargs,
        )


# --- recording ----------------------------------------------------------------------------------------


def test_a_batch_event_numbers_itself_and_each_item_on_its_own_aggregate(db):
    with transaction(db.factory) as session:  # contact a has an event already: its next is 2
        record_event(
            session,
            db.tables,
            source="contacts",
            event_type="contact_created",
            aggregate_type="contact",
            aggregate_id="a",
            payload={},
        )
    with event_headers({"ce-crmorigin": "import"}):
        first = _record_batch(db, "job-1", ["a", "b"])
    second = _record_batch(db, "job-1", ["c"])

    assert (first.sequence, second.sequence) == (1, 2)  # the batch's own aggregate, like any event
    assert [(i.aggregate_type, i.aggregate_id, i.sequence) for i in first.items] == [
        ("contact", "a", 2),
        ("contact", "b", 1),
    ]
    assert len({first.items[0].id, first.items[1].id, first.event_id}) == 3
    row = next(row for row in db.outbox_rows() if row.id == first.event_id)
    assert (row.aggregate_type, row.aggregate_id, row.sequence, row.routing_key) == (
        "contact_batch",
        "job-1",
        1,
        "contacts_imported",
    )
    assert json.loads(row.payload) == {
        "items": [
            {
                "id": first.items[0].id,
                "aggregate_id": "a",
                "sequence": 2,
                "data": {"contact_id": "a", "n": 0},
            },
            {
                "id": first.items[1].id,
                "aggregate_id": "b",
                "sequence": 1,
                "data": {"contact_id": "b", "n": 1},
            },
        ]
    }
    headers = json.loads(row.headers)
    assert (headers["ce-itemaggregatetype"], headers["ce-crmorigin"], headers["ce-sequence"]) == (
        "contact",
        "import",
        "1",
    )
    sequences = db.tables.sequences
    with db.engine.connect() as conn:
        numbered = dict(conn.execute(select(sequences.c.aggregate_id, sequences.c.last_sequence)).all())
    assert numbered == {"a": 2, "b": 1, "c": 1, "job-1": 2}


def test_a_batch_naming_an_aggregate_twice_is_refused_and_records_nothing(db):
    with pytest.raises(ValueError, match="once"):
        _record_batch(db, "job-2", ["a", "a"])
    assert db.count(db.tables.outbox) == 0


def test_items_of_a_batch_read_back_as_recorded_and_as_events_of_their_own():
    event = Event(
        id="e",
        type="contacts_imported",
        source="crm/contacts",
        time=None,
        version=1,
        data={"items": [{"id": "i1", "aggregate_id": "a", "sequence": 1, "data": {"contact_id": "a"}}]},
        headers={"ce-itemaggregatetype": "contact", "ce-crmorigin": "import"},
        aggregate_type="contact_batch",
        aggregate_id="job",
        sequence=3,
    )
    [item] = wire.batch_items(event)
    assert item == wire.BatchItem("i1", "contact", "a", 1, {"contact_id": "a"})
    single = wire.item_event(event, item)
    assert (single.id, single.aggregate_id, single.sequence, single.data) == (
        "i1",
        "a",
        1,
        {"contact_id": "a"},
    )
    assert single.headers["ce-crmorigin"] == "import"
    assert wire.batch_items(wire.with_items(event, [])) == []
    assert wire.batch_items(Event("e", "contact_created", "", None, 1, {})) is None
    broken = Event("e", "contacts_imported", "", None, 1, {"items": [{"aggregate_id": "a"}]}, event.headers)
    with pytest.raises(wire.MalformedEvent):
        wire.batch_items(broken)


# --- consuming ----------------------------------------------------------------------------------------


def _consumer(db, url: str, **kwargs: Any) -> EventConsumer:
    kwargs.setdefault("gap_timeout", 30.0)
    kwargs.setdefault("gap_recheck_delay", 0.1)
    return EventConsumer(url, db.factory, db.tables, service="sales", retry_delays=DELAYS, **kwargs)


class _Seen:
    """What the handlers saw: per event type, the (aggregate id, sequence) of each event or batch item."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches: list[list[tuple[str, int]]] = []
        self.singles: list[tuple[str, int]] = []

    def on_batch(self, session, event: Event) -> None:
        with self.lock:
            self.batches.append(
                [(item.aggregate_id, item.sequence) for item in wire.batch_items(event) or []]
            )

    def on_single(self, session, event: Event) -> None:
        with self.lock:
            self.singles.append((event.aggregate_id, event.sequence))


def _publish_batch(
    broker, items: list[tuple[str, int]], *, batch: str, sequence: int = 1, event_id=None
) -> str:
    """A batch event as the relay publishes one (the same wire format), bypassing the outbox."""
    event_id = event_id or str(uuid.uuid4())
    headers = wire.cloudevent_headers(
        event_id=event_id,
        event_type="contacts_imported",
        service="contacts",
        time=datetime.now(UTC),
        version=1,
        aggregate_type="contact_batch",
        aggregate_id=batch,
        sequence=sequence,
    )
    headers[wire.ITEM_AGGREGATE_TYPE_HEADER] = "contact"
    payload = {
        "items": [
            {"id": str(uuid.uuid4()), "aggregate_id": a, "sequence": s, "data": {"contact_id": a}}
            for a, s in items
        ]
    }
    broker.publish_raw(
        "contacts.events",
        "contacts_imported",
        json.dumps(payload).encode(),
        wire.message_properties(event_id, headers),
    )
    return event_id


def _positions(db, *aggregate_ids: str) -> dict[str, int]:
    positions = db.tables.positions
    with db.engine.connect() as conn:
        rows = conn.execute(
            select(positions.c.aggregate_id, positions.c.last_sequence).where(
                positions.c.aggregate_id.in_(aggregate_ids)
            )
        )
        return {row[0]: row[1] for row in rows}


def _consumed(queue: str, event_type: str, outcome: str) -> float:
    return EVENTS_CONSUMED.labels(queue, event_type, outcome)._value.get()


def test_a_batch_applies_once_and_its_redelivery_is_a_duplicate(db, broker, run_consumer, wait_for):
    seen = _Seen()
    consumer = _consumer(db, broker.url)
    queue = consumer.subscribe("contacts", "contacts_imported", seen.on_batch)
    run_consumer(consumer)
    event_id = _publish_batch(broker, [("a1", 1), ("a2", 1), ("a3", 1)], batch="b1")
    wait_for(lambda: _positions(db, "b1", "a1", "a2", "a3") == {"b1": 1, "a1": 1, "a2": 1, "a3": 1})
    assert seen.batches == [[("a1", 1), ("a2", 1), ("a3", 1)]]

    duplicates = _consumed(queue, "contacts_imported", "duplicate")
    _publish_batch(broker, [("a1", 1), ("a2", 1), ("a3", 1)], batch="b1", event_id=event_id)  # redelivered
    wait_for(lambda: _consumed(queue, "contacts_imported", "duplicate") == duplicates + 1)
    assert seen.batches == [[("a1", 1), ("a2", 1), ("a3", 1)]]
    assert broker.count(queue) == 0


def test_without_a_handler_every_item_moves_on_so_its_next_event_applies_at_once(
    db, broker, run_consumer, wait_for
):
    seen = _Seen()
    consumer = _consumer(db, broker.url)  # gap timeout 30 s: nothing here may wait for it
    queue = consumer.subscribe("contacts", "contact_updated", seen.on_single)
    run_consumer(consumer)
    skipped = _consumed(queue, "contacts_imported", "skipped")
    _publish_batch(broker, [("n1", 1), ("n2", 1)], batch="b2")
    wait_for(lambda: _positions(db, "n1", "n2") == {"n1": 1, "n2": 1}, timeout=5, what="items moved on")
    # Counted once the transaction has committed, so a moment after the positions show.
    wait_for(
        lambda: _consumed(queue, "contacts_imported", "skipped") == skipped + 1, timeout=5, what="the count"
    )

    started = time.monotonic()
    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="n2", sequence=2)
    wait_for(lambda: _positions(db, "n2") == {"n2": 2}, timeout=5, what="the item's next event")
    assert time.monotonic() - started < 5
    assert seen.singles == [("n2", 2)]


def test_a_gap_before_any_item_defers_the_whole_batch_until_it_fills(db, broker, run_consumer, wait_for):
    seen = _Seen()
    consumer = _consumer(db, broker.url)
    queue = consumer.subscribe("contacts", "contacts_imported", seen.on_batch)
    consumer.subscribe("contacts", "contact_updated", seen.on_single)
    run_consumer(consumer)
    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="g1", sequence=1)
    wait_for(lambda: _positions(db, "g1") == {"g1": 1})
    deferred = _consumed(queue, "contacts_imported", "deferred")
    # g1's sequence 3 in the batch waits for its 2; g2 (new) must not be applied before then either.
    _publish_batch(broker, [("g2", 1), ("g1", 3)], batch="b3")
    wait_for(
        lambda: _consumed(queue, "contacts_imported", "deferred") > deferred + 1, what="the batch waiting"
    )
    assert _positions(db, "b3", "g2") == {} and seen.batches == []

    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="g1", sequence=2)
    wait_for(
        lambda: _positions(db, "b3", "g1", "g2") == {"b3": 1, "g1": 3, "g2": 1}, what="the batch applied"
    )
    assert seen.batches == [[("g2", 1), ("g1", 3)]]
    assert seen.singles == [("g1", 1), ("g1", 2)]


def test_the_handler_sees_only_the_items_not_applied_yet(db, broker, run_consumer, wait_for):
    seen = _Seen()
    consumer = _consumer(db, broker.url)
    consumer.subscribe("contacts", "contacts_imported", seen.on_batch)
    consumer.subscribe("contacts", "contact_updated", seen.on_single)
    run_consumer(consumer)
    for aggregate_id, sequence in (("f1", 1), ("f1", 2)):
        broker.publish_event("contacts", "contact_updated", {}, aggregate_id=aggregate_id, sequence=sequence)
    wait_for(lambda: _positions(db, "f1") == {"f1": 2})
    _publish_batch(broker, [("f1", 2), ("f2", 1)], batch="b4")  # f1's 2 applied already
    wait_for(lambda: _positions(db, "b4", "f2") == {"b4": 1, "f2": 1})
    assert seen.batches == [[("f2", 1)]]
    assert _positions(db, "f1") == {"f1": 2}


def test_a_batch_whose_items_were_all_applied_moves_its_own_position_without_the_handler(
    db, broker, run_consumer, wait_for
):
    seen = _Seen()
    consumer = _consumer(db, broker.url)
    consumer.subscribe("contacts", "contacts_imported", seen.on_batch)
    run_consumer(consumer)
    _publish_batch(broker, [("d1", 1)], batch="b5")
    wait_for(lambda: _positions(db, "b5") == {"b5": 1})
    _publish_batch(broker, [("d1", 1)], batch="b5", sequence=2)  # another event about d1's first: stale
    wait_for(lambda: _positions(db, "b5") == {"b5": 2})
    assert seen.batches == [[("d1", 1)]]


def test_a_recorded_batch_reaches_a_consumer_through_the_relay(
    db, broker, start_relay, run_consumer, wait_for
):
    seen = _Seen()
    consumer = _consumer(db, broker.url)
    consumer.subscribe("contacts", "contacts_imported", seen.on_batch)
    run_consumer(consumer)
    start_relay(broker.url, poll_interval=0.05)
    recorded = _record_batch(db, "job-r", ["r1", "r2"])
    wait_for(lambda: _positions(db, "job-r", "r1", "r2") == {"job-r": 1, "r1": 1, "r2": 1})
    assert seen.batches == [[("r1", 1), ("r2", 1)]]
    assert [item.aggregate_id for item in recorded.items] == ["r1", "r2"]


def test_a_parked_batch_holds_its_items_places_so_their_next_events_follow_it_to_the_dlq(
    db, broker, run_consumer, wait_for
):
    seen = _Seen()

    def always_fails(session, event: Event) -> None:
        raise RuntimeError("a handler bug")

    consumer = _consumer(db, broker.url, gap_timeout=1.0)
    queue = consumer.subscribe("contacts", "contacts_imported", always_fails)
    consumer.subscribe("contacts", "contact_updated", seen.on_single)
    run_consumer(consumer)
    _publish_batch(broker, [("h1", 1), ("h2", 1)], batch="b6")
    wait_for(lambda: broker.count(queue + ".dlq") == 1, what="the batch parked after its retries")
    assert _positions(db, "b6", "h1", "h2") == {"b6": 0, "h1": 0, "h2": 0}

    # h1's next event does not apply as if the consumer had joined mid-stream: it waits for the batch,
    # and at the gap timeout follows it to the DLQ, so replaying the DLQ replays h1 in order.
    broker.publish_event("contacts", "contact_updated", {}, aggregate_id="h1", sequence=2)
    wait_for(lambda: broker.count(queue + ".dlq") == 2, timeout=5, what="h1's sequence 2 parked behind it")
    [_batch, (parked, _body)] = broker.take_all(queue + ".dlq")
    assert parked.headers["x-crm-reason"].startswith("gap: sequence 1 of contact/h1 missing")
    assert seen.singles == []
