"""Housekeeping: published outbox rows and old inbox rows are deleted in small batches, so both stay
bounded however many events go through."""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from crm_platform.events import prune_inbox, prune_outbox, wire

NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)


def _outbox_row(position_hint: int, aggregate_id: str, sequence: int, **values) -> dict:
    event_id = str(uuid.uuid4())
    headers = wire.cloudevent_headers(
        event_id=event_id,
        event_type="contact_updated",
        service="contacts",
        time=NOW,
        version=1,
        aggregate_type="contact",
        aggregate_id=aggregate_id,
        sequence=sequence,
    )
    row = {
        "id": event_id,
        "aggregate_type": "contact",
        "aggregate_id": aggregate_id,
        "sequence": sequence,
        "exchange": "contacts.events",
        "routing_key": "contact_updated",
        "payload": json.dumps({"n": position_hint}),
        "headers": json.dumps(headers),
        "created_at": NOW,
        "attempts": 0,
        "published_at": None,
        "parked_at": None,
    }
    row.update(values)
    return row


def _inbox_row(consumer: str, processed_at: datetime) -> dict:
    return {"consumer": consumer, "event_id": str(uuid.uuid4()), "processed_at": processed_at}


def test_prune_outbox_deletes_only_rows_published_before_the_retention_window(db):
    old = NOW - timedelta(hours=25)
    recent = NOW - timedelta(hours=1)
    rows = [_outbox_row(i, f"old-{i}", 1, published_at=old) for i in range(10)]
    rows += [
        _outbox_row(10, "recent", 1, published_at=recent),
        _outbox_row(11, "pending", 1),
        _outbox_row(12, "parked", 1, parked_at=old, attempts=12),
    ]
    with db.engine.begin() as conn:
        conn.execute(insert(db.tables.outbox), rows)

    assert prune_outbox(db.engine, db.tables, now=NOW, retention=24 * 3600, batch_size=3) == 10
    left = sorted(row.aggregate_id for row in db.outbox_rows())
    assert left == ["parked", "pending", "recent"]
    assert prune_outbox(db.engine, db.tables, now=NOW, retention=24 * 3600) == 0


def test_prune_inbox_deletes_rows_older_than_the_inbox_retention(db):
    week = 7 * 24 * 3600
    rows = [_inbox_row("sales", NOW - timedelta(days=8)) for _ in range(7)]
    rows += [_inbox_row("sales", NOW - timedelta(days=6)), _inbox_row("marketing", NOW - timedelta(days=1))]
    with db.engine.begin() as conn:
        conn.execute(insert(db.tables.inbox), rows)
    assert prune_inbox(db.engine, db.tables, now=NOW, retention=week, batch_size=2) == 7
    assert db.count(db.tables.inbox) == 2


def test_outbox_and_inbox_stay_bounded_over_100k_events(db, broker, start_relay, wait_for):
    """100k events go through the relay to a real broker, in bursts, while the worker's pruning runs
    between them: neither table ever holds more than a burst plus the retention window's worth.
    The full 100k on PostgreSQL (production's database); SQLite runs the same ten bursts at a fifth of
    the size (the same code paths, and a minute less of the suite)."""
    scale = 1 if db.engine.dialect.name == "postgresql" else 5
    total, burst, aggregates = 100_000 // scale, 10_000 // scale, 2_000 // scale
    broker.channel.queue_declare("sink", durable=True, arguments={"x-max-length": 1000})
    wire.declare_exchange(broker.channel, "contacts.events")
    broker.channel.queue_bind("sink", "contacts.events", routing_key="#")
    start_relay(broker.url, poll_interval=0.01, batch_size=1000)

    largest = inbox_largest = 0
    for start in range(0, total, burst):
        rows = [
            _outbox_row(i, f"c{i % aggregates}", i // aggregates + 1) for i in range(start, start + burst)
        ]
        simulated = NOW + timedelta(days=start // burst)  # a consumer applying them, a day per burst
        with db.engine.begin() as conn:
            conn.execute(insert(db.tables.outbox), rows)
            conn.execute(insert(db.tables.inbox), [_inbox_row("sales", simulated) for _ in range(burst)])
        largest = max(largest, db.count(db.tables.outbox))
        wait_for(lambda: db.unpublished() == 0, timeout=60, what="the burst to be published")
        # What the worker does periodically, with the outbox retention shortened to keep the run short.
        prune_outbox(db.engine, db.tables, retention=0.2)
        prune_inbox(db.engine, db.tables, now=simulated, retention=2.5 * 24 * 3600)
        inbox_largest = max(inbox_largest, db.count(db.tables.inbox))

    time.sleep(0.3)
    prune_outbox(db.engine, db.tables, retention=0.2)
    assert db.count(db.tables.outbox) == 0
    # At most the burst just recorded plus the previous one (published within the retention window).
    assert largest <= 2 * burst, f"outbox grew to {largest} rows"
    assert inbox_largest == 3 * burst  # the bursts of the last 2.5 simulated days
    outbox = db.tables.outbox
    with db.engine.connect() as conn:
        assert conn.execute(select(outbox.c.id)).first() is None
